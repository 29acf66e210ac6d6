"""Run a study: validate it, skip what the store already holds, commit each point as it ends."""
from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from tqdm.auto import tqdm

from .config import SweepConfig, load_config
from .executors import Executor, Serial
from .grid import expand
from .report import summary_table
from .store import Store
from .worker import compute_point, failed


@dataclass
class SweepReport:
    """What a run did, and the study's points as they stand in the store afterwards.

    Attributes
    ----------
    store : Path
    ran : int
        Points measured in this run.
    skipped : int
        Points already in the store (done, or failed without ``retry_failed``).
    failed : int
        Points of this run that failed.
    records : list[dict]
        Every stored point of the study (see :meth:`Store.records`).
    """

    store: Path
    ran: int
    skipped: int
    failed: int
    records: list[dict[str, Any]]

    def table(self) -> str:
        """The summary table of the study's points."""
        return summary_table(self.records)


def _config(config: SweepConfig | str | Path | Mapping[str, Any]) -> SweepConfig:
    return config if isinstance(config, SweepConfig) else load_config(config)


def run(
    config: SweepConfig | str | Path | Mapping[str, Any],
    store: str | Path | None = None,
    executor: Executor | None = None,
    *,
    extend: bool = False,
    retry_failed: bool = False,
    progress: bool | None = None,
) -> SweepReport:
    """Run a study, resuming from what ``store`` already holds.

    Everything is validated (config, every grid point, the store and its config) before
    any point runs. Each point's seed is derived from (study seed, point key), so the
    numbers are the same on every executor and in any order.

    Parameters
    ----------
    config : SweepConfig, path of a TOML file, or the parsed TOML as a dict
    store : path, optional
        SQLite results store; default ``output.store`` of the config.
    executor : Executor, optional
        :class:`~qcgrad.sweep.executors.Serial` (default), ``ProcessPool(n)`` or ``Dask(address)``.
    extend : bool
        Allow a store written by a different config (add this config's points to it).
    retry_failed : bool
        Rerun only the points recorded as failed.
    progress : bool, optional
        Progress bars; default: only when stderr is a terminal.

    Returns
    -------
    SweepReport

    Examples
    --------
    >>> import tempfile, pathlib
    >>> study = {"study": {"n_samples": 8}, "model": {"family": "classical", "architecture": "tower"},
    ...          "grid": {"depth": [1, 2]}}
    >>> report = run(study, store=pathlib.Path(tempfile.mkdtemp()) / "r.sqlite")
    >>> report.ran, [r["status"] for r in report.records]
    (2, ['done', 'done'])
    """
    from .. import __version__

    cfg = _config(config)
    points = expand(cfg)
    path = Path(store) if store is not None else cfg.store
    if path is None:
        raise ValueError("no results store: pass store= (--store PATH) or set output.store in the config")
    executor = Serial() if executor is None else executor
    if not isinstance(executor, Executor):
        raise TypeError(f"executor={executor!r} is not allowed; use Serial(), ProcessPool(n) or Dask(address)")
    if path.exists():  # refuse a bad store before starting any worker
        with Store.open(path) as existing:
            existing.check_config(cfg, extend)
    show = sys.stderr.isatty() if progress is None else progress
    with Store.open(path, create=True) as db:
        db.add_config(cfg, extend)
        status = db.statuses()
        wanted = "failed" if retry_failed else None
        todo = [p for p in points if status.get(p.point_id) == wanted]
        n_failed = 0
        if todo:
            with executor, tqdm(total=len(todo), desc=cfg.name, unit="point", disable=not show) as bar:
                measure = functools.partial(compute_point, progress=show and executor.in_process)
                for point, result, error in executor.imap_unordered(measure, todo):
                    result = failed(point, error) if error is not None else result
                    db.write(point, cfg, result, __version__)
                    n_failed += result.status == "failed"
                    bar.update()
                    bar.set_postfix(failed=n_failed)
        stored = {r["point_id"]: r for r in db.records()}
        records = [stored[p.point_id] for p in points if p.point_id in stored]  # grid order
    return SweepReport(path, len(todo), len(points) - len(todo), n_failed, records)


def load(store: str | Path) -> Store:
    """Open a results store to read it: ``records()``, ``gradients(id)``, ``to_csv``, ``to_dataframe``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "r.sqlite"
    >>> _ = run({"study": {"n_samples": 8}, "model": {"family": "classical", "architecture": "tower"},
    ...          "grid": {"depth": [1, 2]}}, store=path)
    >>> with load(path) as results:
    ...     len(results.records("done"))
    2
    """
    return Store.open(store)
