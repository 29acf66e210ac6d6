"""The headline study: vanishing gradients in deep nets beside barren plateaus in circuits."""
from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import classical, quantum
from .model import Model
from .stats import DecayFit, Scan, scan
from .theory.compare import compare_theory, theory_fit

#: Layers per qubit for the McClean circuits: at these sizes Var(L) still moves at L=50 for
#: n ≥ 10, and about 12n layers are needed to reach the 2-design value.
LAYERS_PER_QUBIT = 12


@dataclass(frozen=True)
class Series:
    """One curve of the study: a builder over the knob and the panel it belongs to."""

    label: str
    panel: str
    build: Callable[[int], Model]
    values: tuple[int, ...]
    #: Samples relative to the study's n_samples: heavy-tailed (global-cost) gradients need more.
    sample_factor: int = 1
    #: Fit a decay (size knobs), or show a curve that should flatten (depth of a circuit).
    fit: bool = True


def headline_series(max_depth: int = 64, max_qubits: int = 10, width: int = 32) -> list[Series]:
    """The curves of ``qcgrad compare``.

    Classical: sigmoid and tanh MLPs with Xavier init and a ReLU MLP with He init, first-layer
    gradient against depth 2..max_depth (powers of two). Quantum: McClean random Pauli circuits
    with the ⟨Z0Z1⟩ cost at L = 12n layers (a 2-design at these sizes), and Cerezo's
    tensor-product ansatz with the global and the local cost, n = 2..max_qubits. Beside them,
    Var against L for random Pauli circuits at three widths: the curves must flatten (the
    2-design value) before a fit against n means anything.
    """
    depths = tuple(d for d in (2, 4, 8, 16, 32, 64, 128, 256) if d <= max_depth)
    qubits = tuple(range(2, max_qubits + 1))
    mlp = classical.ARCHITECTURES["mlp"]
    nets, circuits, layers = "classical: depth", "quantum: qubits", "quantum: layers (convergence)"

    def random_pauli(n: int, n_layers: int) -> Model:
        return quantum.circuit("random_pauli", n_qubits=n, n_layers=n_layers, cost="zz")

    def tensor_product(cost: str) -> Callable[[int], Model]:
        return lambda n: quantum.circuit("tensor_product", n_qubits=n, n_layers=1, cost=cost)

    def depth_curve(n: int) -> Series:
        return Series(f"random Pauli, ZZ, n={n}", layers, lambda L: random_pauli(n, L),
                      tuple(sorted({2, 5, 10, 20, 50, 100, 200, LAYERS_PER_QUBIT * n})), fit=False)

    return [
        Series("MLP sigmoid, Xavier", nets,
               lambda d: mlp(depth=d, width=width, activation="sigmoid", init="xavier"), depths),
        Series("MLP tanh, Xavier", nets, lambda d: mlp(depth=d, width=width, activation="tanh", init="xavier"), depths),
        Series("MLP ReLU, He", nets, lambda d: mlp(depth=d, width=width, activation="relu", init="he"), depths),
        Series(f"random Pauli, ZZ, L={LAYERS_PER_QUBIT}n", circuits,
               lambda n: random_pauli(n, LAYERS_PER_QUBIT * n), qubits),
        Series("tensor product, global cost", circuits, tensor_product("global"), qubits, sample_factor=10),
        Series("tensor product, local cost", circuits, tensor_product("local"), qubits),
        *(depth_curve(n) for n in (4, 6, 8) if n <= max_qubits),
    ]


@dataclass
class Result:
    """A finished series: its scan, decay fit, and the theory at each point."""

    series: Series
    scan: Scan
    fit: DecayFit | None
    #: Per point: measured vs predicted (see :func:`qcgrad.theory.compare_theory`).
    theory: list[dict[str, Any]] = field(default_factory=list)

    @property
    def theory_fit(self) -> DecayFit | None:
        """The decay fit of the predicted variances, of the same kind as the measured fit."""
        if self.fit is None:
            return None
        return theory_fit(self.scan.values, [t["predicted"] for t in self.theory], self.fit.kind, self.scan.knob)

    def records(self) -> list[dict[str, Any]]:
        """The scan's records, each with its ``prediction`` and ``verdict``."""
        rows = self.scan.records()
        for row, t in zip(rows, self.theory, strict=False):
            row.update(prediction=t["prediction"], verdict=t["verdict"])
        return rows

    def row(self) -> dict[str, Any]:
        fit, theory = self.fit, self.theory_fit
        return {"series": self.series.label, "knob": self.scan.knob, "converged": self.scan.converged(),
                "kind": fit.kind if fit else "-", "rate": fit.rate if fit else None,
                "rate_ci": list(fit.rate_ci) if fit else None, "base": fit.base if fit else None,
                "r2": fit.r2 if fit else None,
                "theory_rate": theory.rate if theory else None, "theory_base": theory.base if theory else None,
                "model_kind": self.scan.estimates[0].model.get("family", "?")}


def run_series(series: Series, n_samples: int = 200, seed: int = 0) -> Result:
    """Scan one series and, for size knobs, fit its decay (exponential or power, by AIC)."""
    with warnings.catch_warnings():
        # Global-cost gradients are heavy-tailed by nature; the interval already says so.
        warnings.simplefilter("ignore")
        sc = scan(series.build, series.values, n_samples=n_samples * series.sample_factor, seed=seed)
    positive = sum(e.variance > 0 for e in sc.estimates)
    return Result(series, sc, sc.fit() if series.fit and positive >= 3 else None, compare_theory(sc, series.build))


def format_table(results: list[Result]) -> str:
    """Plain-text table: series, knob, fitted rate ± CI, base, the theory's rate and base, fit kind,
    whether the tail is flat."""
    head = (f"{'series':34} {'knob':9} {'fit':12} {'rate':>8} {'95% CI':>18} {'base b':>7} "
            f"{'theory rate (b)':>17} {'tail flat':>9} {'model':>9}")
    lines = [head, "-" * len(head)]
    for r in results:
        row = r.row()
        rate = "-" if row["rate"] is None else f"{row['rate']:.3f}"
        ci = "-" if row["rate_ci"] is None else f"[{row['rate_ci'][0]:.3f}, {row['rate_ci'][1]:.3f}]"
        base = "-" if row["base"] is None else f"{row['base']:.3f}"
        flat = "yes" if row["converged"] else "no"
        theory = "-" if row["theory_rate"] is None else (
            f"{row['theory_rate']:.3f}" + ("" if row["theory_base"] is None else f" ({row['theory_base']:.3g})"))
        lines.append(f"{row['series']:34} {row['knob']:9} {row['kind']:12} {rate:>8} "
                     f"{ci:>18} {base:>7} {theory:>17} {flat:>9} {row['model_kind']:>9}")
    return "\n".join(lines)
