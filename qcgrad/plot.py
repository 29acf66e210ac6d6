"""Figures: variance against a size knob, with interval bars and the fitted decay."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

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


def plot_series(ax: Any, records: Iterable[Mapping[str, Any]], label: str,
                fit: DecayFit | None = None, **style: Any) -> None:
    """Draw one series of records (``value``, ``variance``, ``ci``) on a log-y axis.

    Parameters
    ----------
    ax : matplotlib Axes
    records : iterable of dicts
        As returned by :meth:`qcgrad.Scan.records` or loaded from a results store.
    label : str
    fit : DecayFit, optional
        Drawn as a dashed line through the points, its rate in the legend.
    """
    rows = sorted(records, key=lambda r: r["value"])
    x = np.array([r["value"] for r in rows], dtype=float)
    v = np.array([r["variance"] for r in rows])
    lo = np.array([r["ci"][0] for r in rows])
    hi = np.array([r["ci"][1] for r in rows])
    text = label if fit is None else f"{label}  {fit_label(fit)}"
    bars = ax.errorbar(x, v, yerr=[np.clip(v - lo, 0, None), np.clip(hi - v, 0, None)],
                       fmt="o", ms=4, capsize=2, label=text, **style)
    if fit is not None:
        grid = np.linspace(x.min(), x.max(), 100)
        ax.plot(grid, fit.predict(grid), "--", color=bars[0].get_color(), lw=1)
    ax.set_yscale("log")


def variance_figure(panels: Mapping[str, Mapping[str, tuple[list[dict], DecayFit | None]]],
                    title: str | None = None) -> Any:
    """One panel per entry of ``panels``: ``{panel title: {series label: (records, fit)}}``.

    Returns the matplotlib Figure; the x label is the series' knob.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.8), squeeze=False)
    for ax, (panel, series) in zip(axes[0], panels.items()):
        for label, (records, fit) in series.items():
            plot_series(ax, records, label, fit)
        knobs = {r["knob"] for records, _ in series.values() for r in records}
        ax.set_xlabel(" / ".join(sorted(knobs)))
        ax.set_ylabel("Var[∂C/∂θ]  (95 % bootstrap CI)")
        ax.set_title(panel)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
