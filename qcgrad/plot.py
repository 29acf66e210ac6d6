"""Figures: variance against a size knob, with interval bars and the fitted decay."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")  # figures are written to files; no display is assumed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .stats import DecayFit  # noqa: E402


def fit_label(fit: DecayFit) -> str:
    """Short legend text for a fit: ``b=2.01 [1.9, 2.1]`` or ``n^-2.0 [1.8, 2.2]``."""
    if fit.kind == "exponential":
        lo, hi = np.exp(fit.rate_ci)
        return f"∝ {fit.base:.3g}^-{fit.knob} [{lo:.3g}, {hi:.3g}]"
    return f"∝ {fit.knob}^-{fit.rate:.2f} [{fit.rate_ci[0]:.2f}, {fit.rate_ci[1]:.2f}]"


def theory_values(records: Iterable[Mapping[str, Any]]) -> np.ndarray | None:
    """The records' predicted variances (``prediction.variance``), NaN where refused; None when none has one."""
    values = []
    for r in records:
        pred = r.get("prediction") or {}
        v = pred.get("variance") if isinstance(pred, Mapping) else None
        values.append(np.nan if v is None else float(v))
    out = np.array(values, dtype=float)
    return None if np.all(np.isnan(out)) else out


def plot_series(ax: Any, records: Iterable[Mapping[str, Any]], label: str,
                fit: DecayFit | None = None, **style: Any) -> None:
    """Draw one series of records (``value``, ``variance``, ``ci``) on a log-y axis.

    Parameters
    ----------
    ax : matplotlib Axes
    records : iterable of dicts
        As returned by :meth:`qcgrad.Scan.records` or loaded from a results store. Records
        with a ``prediction`` (``Prediction.to_dict()``, as sweeps and ``qcgrad compare`` write
        them) get the theory drawn as a dashed line in the series' colour.
    label : str
    fit : DecayFit, optional
        Drawn as a thin solid line through the points, its rate in the legend.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> rows = [{"value": n, "variance": 2.0 ** -n, "ci": (0.9 * 2.0 ** -n, 1.1 * 2.0 ** -n),
    ...          "prediction": {"variance": 2.0 ** -n}} for n in (2, 3, 4)]
    >>> plot_series(ax, rows, "demo")
    >>> [line.get_linestyle() for line in ax.get_lines()][-1]
    '--'
    """
    rows = sorted(records, key=lambda r: r["value"])
    x = np.array([r["value"] for r in rows], dtype=float)
    v = np.array([r["variance"] for r in rows])
    lo = np.array([r["ci"][0] for r in rows])
    hi = np.array([r["ci"][1] for r in rows])
    text = label if fit is None else f"{label}  {fit_label(fit)}"
    bars = ax.errorbar(x, v, yerr=[np.clip(v - lo, 0, None), np.clip(hi - v, 0, None)],
                       fmt="o", ms=4, capsize=2, label=text, **style)
    color = bars[0].get_color()
    if fit is not None:
        grid = np.linspace(x.min(), x.max(), 100)
        ax.plot(grid, fit.predict(grid), "-", color=color, lw=0.8, alpha=0.6)
    theory = theory_values(rows)
    if theory is not None:
        ax.plot(x, theory, "--", color=color, lw=1.2)
    ax.set_yscale("log")


def variance_figure(panels: Mapping[str, Mapping[str, tuple[list[dict], DecayFit | None]]],
                    title: str | None = None) -> Any:
    """One panel per entry of ``panels``: ``{panel title: {series label: (records, fit)}}``.

    Returns the matplotlib Figure; the x label is the series' knob. Dashed lines are theory
    (records' ``prediction``), thin solid lines the fitted decays.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.8), squeeze=False)
    for ax, (panel, series) in zip(axes[0], panels.items(), strict=True):
        for label, (records, fit) in series.items():
            plot_series(ax, records, label, fit)
        knobs = {r["knob"] for records, _ in series.values() for r in records}
        ax.set_xlabel(" / ".join(sorted(knobs)))
        ax.set_ylabel("Var[∂C/∂θ]  (95 % bootstrap CI)")
        ax.set_title(panel)
        ax.grid(True, which="both", alpha=0.3)
        if any(theory_values(records) is not None for records, _ in series.values()):
            ax.plot([], [], "k--", lw=1.2, label="theory")
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
