"""`qcgrad compare`: the headline study, deep nets vs quantum circuits on one figure."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from tqdm import tqdm

from .. import __version__
from ..compare import format_table, headline_series, run_series
from ..plot import variance_figure


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="the headline study: vanishing gradients vs barren plateaus",
                       description="Scan gradient variance of sigmoid/tanh/ReLU MLPs against depth and of "
                                   "random Pauli and tensor-product circuits against qubits; fit the decays; "
                                   "set the theory (Lie algebra, mean field) beside every point; "
                                   "write a table, a PNG and a JSON of the records.")
    p.add_argument("--out", default="results/compare", help="output folder (default: %(default)s)")
    p.add_argument("--samples", type=int, default=200, help="init samples per point (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-depth", type=int, default=64, help="deepest MLP (default: %(default)s)")
    p.add_argument("--max-qubits", type=int, default=10, help="largest circuit (default: %(default)s)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.max_depth < 8 or args.max_qubits < 4:
        raise ValueError(f"--max-depth={args.max_depth} / --max-qubits={args.max_qubits}: a fit needs "
                         "3 points, so use --max-depth ≥ 8 and --max-qubits ≥ 4")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    series = headline_series(args.max_depth, args.max_qubits)
    start = time.perf_counter()
    results = [run_series(s, n_samples=args.samples, seed=args.seed)
               for s in tqdm(series, desc="compare", unit="series", disable=not sys.stderr.isatty())]
    print(format_table(results))
    panels: dict[str, dict] = {}
    for r in results:
        panels.setdefault(r.series.panel, {})[r.series.label] = (r.records(), r.fit)
    fig = variance_figure(panels, title=f"qcgrad {__version__}: gradient variance at initialization, "
                                        f"S={args.samples} samples per point (global cost: 10×)")
    fig.savefig(out / "compare.png", dpi=120)
    payload = {
        "qcgrad": __version__, "n_samples": args.samples, "seed": args.seed,
        "seconds": time.perf_counter() - start,
        "series": [{**r.row(), "fit": r.fit.to_dict() if r.fit else None, "records": r.records()}
                   for r in results],
    }
    (out / "compare.json").write_text(json.dumps(payload, indent=1, default=str))
    print(f"\nwrote {out / 'compare.png'} and {out / 'compare.json'} ({payload['seconds']:.0f} s)")
    return 0
