"""The table printed at the end of a sweep: one line per point of the study."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def summary_table(records: Sequence[dict[str, Any]]) -> str:
    """A fixed-width text table: the scanned knobs, status, variance, 95 % CI, seconds.

    Parameters
    ----------
    records : sequence of dicts
        As returned by :meth:`qcgrad.sweep.store.Store.records`.

    Returns
    -------
    str

    Examples
    --------
    >>> print(summary_table([{"scanned": ["depth"], "knobs": {"depth": 2}, "name": "mlp",
    ...     "status": "done", "variance": 0.5, "ci": (0.4, 0.6), "seconds": 0.1, "error": None}]))
    depth  status  variance  95% CI      seconds
    2      done    0.5       [0.4, 0.6]  0.1
    """
    if not records:
        return "(no points)"
    scanned = list(dict.fromkeys(k for r in records for k in r["scanned"]))
    header = scanned + ["status", "variance", "95% CI", "seconds"]
    errors = any(r["status"] == "failed" for r in records)
    rows = []
    for r in records:
        knobs = {**r["knobs"], "architecture": r["name"], "ansatz": r["name"]}
        ci = "-" if r["ci"][0] is None else f"[{r['ci'][0]:.4g}, {r['ci'][1]:.4g}]"
        row = [_cell(knobs.get(k)) for k in scanned] + [r["status"], _cell(r["variance"]), ci, _cell(r["seconds"])]
        rows.append(row + [_cell(r["error"])] if errors else row)
    header += ["error"] if errors else []
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [header] + rows]
    return "\n".join(lines)
