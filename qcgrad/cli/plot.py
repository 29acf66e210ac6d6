"""`qcgrad plot STORE`: variance against the scanned size knob, with decay fits, per model.

One panel per model (family and architecture/ansatz) in the store; within a panel one series
per combination of every other knob whose value differs between the points (scanned or
fixed: stores extended by several configs hold models that differ in fixed knobs) and of
the measurement settings ``params``, ``method`` and ``n_samples``; each series with its
weighted decay fit when it has three or more points. The store is only read.
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..stats import SIZE_KNOBS, DecayFit, fit_decay
from ..sweep import load
from ..sweep.config import NAME_KEY

#: Record fields besides the knobs that change what a point measures.
SETTINGS = ("params", "method", "n_samples")


def scan_knob(records: list[dict[str, Any]]) -> str | None:
    """The knob to put on the x axis: a numeric scanned knob, size knobs first."""
    numeric = [k for k in dict.fromkeys(k for r in records for k in r["scanned"])
               if k not in NAME_KEY.values()
               and all(isinstance(r["knobs"].get(k), (int, float)) and not isinstance(r["knobs"].get(k), bool)
                       for r in records)
               and len({r["knobs"][k] for r in records}) > 1]
    ranked = [k for k in SIZE_KNOBS if k in numeric] + [k for k in numeric if k not in SIZE_KNOBS]
    return ranked[0] if ranked else None


def series_keys(records: list[dict[str, Any]], knob: str) -> list[str]:
    """Knobs (scanned ones first) and settings other than ``knob`` whose values differ between records.

    Examples
    --------
    >>> rows = [{"scanned": ["depth"], "knobs": {"depth": d, "width": w}, "params": "first"}
    ...         for d in (1, 2) for w in (4, 5)]
    >>> series_keys(rows, "depth")
    ['width']
    """
    def differ(values: Iterable[Any]) -> bool:
        return len({json.dumps(v, sort_keys=True) for v in values}) > 1

    knobs = dict.fromkeys([k for r in records for k in r["scanned"]] + [k for r in records for k in r["knobs"]])
    return ([k for k in knobs if k != knob and k not in NAME_KEY.values()
             and differ(r["knobs"].get(k) for r in records)]
            + [s for s in SETTINGS if differ(r.get(s) for r in records)])


def panels(records: list[dict[str, Any]]) -> dict[str, dict[str, tuple[list[dict], DecayFit | None]]]:
    """``{panel title: {series label: (records, fit)}}`` for :func:`qcgrad.plot.variance_figure`.

    Examples
    --------
    >>> rows = [{"family": "classical", "name": "tower", "scanned": ["depth"], "knobs": {"depth": d},
    ...          "variance": 4.0 ** -d, "ci": (0, 1), "se": 0.1 * 4.0 ** -d} for d in (1, 2, 3)]
    >>> series = panels(rows)["classical tower"]
    >>> round(series["tower"][1].base, 6)
    4.0
    """
    by_model: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_model[f"{r['family']} {r['name']}"].append(r)
    out = {}
    for title, rows in by_model.items():
        knob = scan_knob(rows)
        if knob is None:
            continue
        others = series_keys(rows, knob)
        series: dict[str, list[dict]] = defaultdict(list)
        for r in rows:
            label = ", ".join(f"{k}={r['knobs'][k] if k in r['knobs'] else r.get(k)}" for k in others) or r["name"]
            series[label].append({**r, "knob": knob, "value": r["knobs"][knob]})
        out[title] = {label: (points, _fit(points, knob)) for label, points in series.items()}
    return out


def _fit(points: list[dict], knob: str) -> DecayFit | None:
    """The decay fit of a series, or None when it has fewer than 3 usable points."""
    usable = [p for p in points if p["variance"] and p["variance"] > 0]
    if len(usable) < 3:
        return None
    return fit_decay([p["value"] for p in usable], [p["variance"] for p in usable],
                     [p["se"] / p["variance"] if p["se"] else 1.0 for p in usable], knob=knob)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plot", help="variance vs scanned knob, with fits, from a results store",
                       description="Draw Var[dC/dθ] against the scanned size knob for every model in a "
                                   "store written by `qcgrad sweep`, with weighted decay fits.")
    p.add_argument("store", type=Path, help="SQLite results store")
    p.add_argument("--out", type=Path, default=None, help="figure file (default: STORE with .png)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..plot import variance_figure

    with load(args.store) as store:
        records = store.records("done")
    figure_panels = panels(records)
    if not figure_panels:
        raise ValueError(f"store {str(args.store)!r} has no model with a numeric knob scanned over "
                         f"two or more finished points ({len(records)} finished points in all)")
    out = args.out or args.store.with_suffix(".png")
    variance_figure(figure_panels, title=args.store.name).savefig(out, dpi=120)
    for title, series in figure_panels.items():
        for label, (_, fit) in series.items():
            text = "too few points to fit" if fit is None else (
                f"{fit.kind} rate {fit.rate:.3g} [{fit.rate_ci[0]:.3g}, {fit.rate_ci[1]:.3g}]"
                + (f" base {fit.base:.3g}" if fit.base else "") + f" r2 {fit.r2:.3f}")
            print(f"{title} | {label}: {text}")
    print(f"wrote {out}")
    return 0
