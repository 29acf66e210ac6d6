"""`qcgrad sweep CONFIG.toml --store results.sqlite`: run a study into a resumable store."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..sweep import load, make_executor
from ..sweep import run as run_sweep


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep", help="run a study (TOML grid) into a resumable SQLite store",
        description="Run every point of a study config and commit each result as it finishes. "
                    "Rerunning on the same store skips finished points; sweeps running on one store "
                    "at the same time share its points (each is claimed before it runs).",
        epilog="examples: qcgrad sweep studies/classical_depth.toml --store depth.sqlite --processes 2\n"
               "          qcgrad sweep studies/quantum_cost.toml --store bp.sqlite --dask tcp://host:8786",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", type=Path, help="study config (TOML)")
    p.add_argument("--store", type=Path, default=None,
                   help="SQLite results store (default: output.store of the config)")
    p.add_argument("--dask", metavar="ADDRESS", default=None,
                   help="run on Dask: 'local' starts a LocalCluster, or a scheduler address tcp://host:port")
    p.add_argument("--processes", type=int, default=None, metavar="N",
                   help="local worker processes (with --dask local: LocalCluster workers)")
    p.add_argument("--extend", action="store_true", help="add this config's points to a store made by another config")
    p.add_argument("--retry-failed", action="store_true", help="rerun only the points recorded as failed")
    p.add_argument("--csv", type=Path, default=None, help="also export the whole store as CSV here")
    p.add_argument("--quiet", action="store_true", help="no progress bars and no summary table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    executor = make_executor(processes=args.processes, dask=args.dask)
    if args.csv is not None and not args.csv.parent.is_dir():  # say so before any point runs
        raise FileNotFoundError(f"--csv {str(args.csv)!r}: folder {str(args.csv.parent)!r} does not exist; "
                                "nothing was run")
    report = run_sweep(args.config, store=args.store, executor=executor, extend=args.extend,
                       retry_failed=args.retry_failed, progress=False if args.quiet else None)
    if not args.quiet:
        print(report.table())
        busy = f", {report.busy} being run by another sweep on this store" if report.busy else ""
        print(f"{report.ran} run ({report.failed} failed), {report.skipped} already in {report.store}{busy}")
    if args.csv is not None:
        try:
            with load(report.store) as store:
                store.to_csv(args.csv)
        except OSError as err:
            raise ValueError(f"the points are stored in {str(report.store)!r}, but the CSV export failed: {err}; "
                             f"export later with: qcgrad sweep {args.config} --store {report.store} --csv PATH"
                             ) from None
    return 1 if any(r["status"] == "failed" for r in report.records) else 0
