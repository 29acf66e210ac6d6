"""Run a study: validate it, skip what the store already holds, commit each point as it ends."""
from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from ..validation import warn_user
from .config import SweepConfig, load_config
from .executors import Executor, Serial
from .grid import Point, expand
from .report import summary_table
from .store import Store, UnfinishedStore
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
        Points already in the store (done, or failed without ``retry_failed``), including
        points another sweep on the same store finished meanwhile.
    failed : int
        Points of this run that failed.
    records : list[dict]
        Every stored point of the study (see :meth:`Store.records`).
    busy : int
        Points another sweep running on the same store was measuring (claimed) when this
        run reached them, and had not finished when this run ended.
    """

    store: Path
    ran: int
    skipped: int
    failed: int
    records: list[dict[str, Any]]
    busy: int = 0

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
    numbers are the same on every executor and in any order. Sweeps started at the same
    time on one store share its points: each point is claimed before it runs, and a point
    another live sweep has claimed is left to it.

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
    if path.exists():  # refuse a store or config before writing anything
        with contextlib.suppress(UnfinishedStore), Store.open(path, readonly=True) as existing:
            existing.check_config(cfg, extend)
    show = sys.stderr.isatty() if progress is None else progress
    with Store.open(path, create=True) as db:
        db.add_config(cfg, extend)
        status = db.statuses()
        wanted = "failed" if retry_failed else None
        todo = [p for p in points if status.get(p.point_id) == wanted]
        ran = n_failed = 0
        mine: set[str] = set()
        if todo:
            with executor, tqdm(total=len(todo), desc=cfg.name, unit="point", disable=not show) as bar:
                def claimed() -> Iterator[Point]:  # claimed one by one, as the executor has room
                    for point in todo:
                        if db.claim(point.point_id, wanted):
                            mine.add(point.point_id)
                            yield point
                        else:  # another sweep finished it or is running it
                            bar.update()

                measure = functools.partial(compute_point, progress=show and executor.in_process)
                for point, result, error in executor.imap_unordered(measure, claimed()):
                    if error is not None:
                        result = failed(point, error)
                    assert result is not None  # an executor yields a result or an error
                    db.write(point, cfg, result, __version__)
                    for category, message in result.warnings:
                        warn_user(f"{cfg.name}, {point.label}: {message}", category)
                    ran += 1
                    n_failed += result.status == "failed"
                    bar.update()
                    bar.set_postfix(failed=n_failed)
        status = db.statuses()
        busy = sum(p.point_id not in mine and status.get(p.point_id) == wanted for p in todo)
        stored = {r["point_id"]: r for r in db.records()}
        records = [stored[p.point_id] for p in points if p.point_id in stored]  # grid order
    return SweepReport(path, ran, len(points) - ran - busy, n_failed, records, busy)


def load(store: str | Path) -> Store:
    """Open a results store to read it: ``records()``, ``gradients(id)``, ``to_csv``, ``to_dataframe``.

    The store is opened read-only: reading needs no write permission, and a sweep may be
    writing it at the same time.

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
    return Store.open(store, readonly=True)
