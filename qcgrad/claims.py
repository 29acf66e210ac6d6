"""Published claims checked against measurements: the verdict tables of ``studies/``.

A study states claims from the literature ("Var[∂C] of a global cost decays as (3/8)^n"), measures
the quantity with qcgrad, and prints one row per claim: the reference value and where it comes
from, the measured value with its 95 % interval, and whether they agree. Agreement is decided by
the measurement's own uncertainty, never by a number measured earlier:

- ``equals``: |measured − reference| ≤ z·SE (z = 3 by default, a 0.3 % false-alarm rate for a
  normal estimate); the SE is the estimator's (kurtosis-based for variances, from the fit's
  interval for decay rates).
- ``at_most`` / ``at_least``: a one-sided bound, tested the same way (measured − z·SE ≤ bound).

:class:`Study` parses the command line every study shares (``--quick``, ``--out``, ``--seed``),
collects claims, saves figures and a JSON of the numbers under ``results/studies/<name>/``, and
prints the verdict table.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from .stats import DecayFit, VarianceEstimate

#: Default number of standard errors within which a measurement agrees with its reference.
Z_AGREE = 3.0
#: z of a two-sided 95 % normal interval.
Z95 = 1.959963984540054

Relation = Literal["equals", "at_most", "at_least"]


@dataclass(frozen=True)
class Claim:
    """One published claim, its reference value, the measurement and the verdict.

    Attributes
    ----------
    claim : str
        What is claimed, in words.
    reference : str
        Where the reference value comes from (paper, closed form).
    expected : float
        The reference value (a bound for ``at_most`` / ``at_least``).
    measured : float
    se : float
        Standard error of ``measured``.
    ci : tuple[float, float]
        95 % interval of ``measured``.
    relation : {"equals", "at_most", "at_least"}
    z : float
        Standard errors allowed.
    """

    claim: str
    reference: str
    expected: float
    measured: float
    se: float
    ci: tuple[float, float]
    relation: Relation = "equals"
    z: float = Z_AGREE

    @property
    def agrees(self) -> bool:
        """Whether the measurement is consistent with the claim within ``z`` standard errors."""
        if not (math.isfinite(self.measured) and math.isfinite(self.se)):
            return False
        slack = self.z * self.se
        if self.relation == "at_most":
            return self.measured - slack <= self.expected
        if self.relation == "at_least":
            return self.measured + slack >= self.expected
        return abs(self.measured - self.expected) <= slack

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready row, the verdict included."""
        return {**asdict(self), "ci": list(self.ci), "agrees": self.agrees}


def _check_relation(relation: str) -> None:
    if relation not in ("equals", "at_most", "at_least"):
        raise ValueError(f"relation={relation!r} is not allowed; use 'equals', 'at_most' or 'at_least'")


def claim_value(claim: str, reference: str, expected: float, measured: float, se: float,
                relation: Relation = "equals", z: float = Z_AGREE) -> Claim:
    """A claim about any measured number with a standard error (95 % interval = ±1.96 SE).

    Examples
    --------
    >>> c = claim_value("gain is 1", "He et al. 2015", 1.0, 1.02, 0.01)
    >>> c.agrees, round(c.ci[1], 4)
    (True, 1.0396)
    """
    _check_relation(relation)
    if not se >= 0:
        raise ValueError(f"se={se} is not allowed; a standard error is ≥ 0")
    return Claim(claim, reference, float(expected), float(measured), float(se),
                 (measured - Z95 * se, measured + Z95 * se), relation, z)


def claim_variance(claim: str, reference: str, expected: float, estimate: VarianceEstimate,
                   relation: Relation = "equals", z: float = Z_AGREE) -> Claim:
    """A claim about a gradient variance, judged by the estimator's SE and bootstrap interval.

    Examples
    --------
    >>> import qcgrad as qg
    >>> qc = qg.quantum.circuit("tensor_product", n_qubits=2, cost="local")
    >>> est = qg.gradient_variance(qc, n_samples=400, seed=0)
    >>> claim_variance("local cost", "Cerezo et al. 2021", 1 / (8 * 2**2), est).agrees
    True
    """
    _check_relation(relation)
    return Claim(claim, reference, float(expected), float(estimate.variance), float(estimate.se),
                 (float(estimate.ci[0]), float(estimate.ci[1])), relation, z)


def claim_base(claim: str, reference: str, expected: float, fit: DecayFit,
               relation: Relation = "equals", z: float = Z_AGREE) -> Claim:
    """A claim about the decay base b of a fit (Var ∝ b^-x, or x^-rate for a power law).

    The SE of the base comes from the fit's interval on the rate: for an exponential fit
    b = e^rate, so SE(b) ≈ b·SE(rate) (delta method); for a power fit the rate itself is compared.
    """
    _check_relation(relation)
    lo, hi = fit.rate_ci
    se_rate = (hi - lo) / (2 * Z95)
    if fit.kind == "exponential":
        assert fit.base is not None  # every exponential fit has a base
        measured, se, ci = fit.base, fit.base * se_rate, (math.exp(lo), math.exp(hi))
    else:
        measured, se, ci = fit.rate, se_rate, (lo, hi)
    return Claim(claim, reference, float(expected), float(measured), float(se), (float(ci[0]), float(ci[1])),
                 relation, z)


def verdict_table(claims: list[Claim]) -> str:
    """Plain-text verdict table: claim, reference value, measured value with 95 % CI, agrees."""
    sign = {"equals": "=", "at_most": "≤", "at_least": "≥"}
    rows = [(c.claim, c.reference, f"{sign[c.relation]} {c.expected:.4g}",
             f"{c.measured:.4g} [{c.ci[0]:.4g}, {c.ci[1]:.4g}]", "yes" if c.agrees else "NO")
            for c in claims]
    head = ("claim", "reference", "expected", "measured [95% CI]", "agrees")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(5)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in [head, *rows]]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


@dataclass
class Study:
    """The shared frame of a study script: arguments, claims, figures, JSON and verdicts.

    Parameters
    ----------
    name : str
        Folder name under ``results/studies/``.
    description : str
        Shown by ``--help``.
    argv : list[str], optional
        Command-line arguments; ``sys.argv[1:]`` when omitted. ``--quick`` (fewer samples and
        sizes; what CI runs; also set by ``QCGRAD_STUDY_QUICK=1``), ``--out DIR``, ``--seed N``.

    Examples
    --------
    >>> import tempfile
    >>> s = Study("demo", "a demo", argv=["--quick", "--out", tempfile.mkdtemp()])
    >>> s.quick
    True
    >>> _ = s.add(claim_value("one is one", "arithmetic", 1.0, 1.0, 0.0))
    >>> s.finish({"x": 1}, echo=False)
    True
    """

    name: str
    description: str
    argv: list[str] | None = None
    claims: list[Claim] = field(default_factory=list)

    def __post_init__(self) -> None:
        parser = argparse.ArgumentParser(prog=f"python studies/{self.name}.py", description=self.description)
        parser.add_argument("--quick", action="store_true",
                            help="fewer samples and sizes (what CI runs); the default is the full study")
        parser.add_argument("--out", default=None,
                            help=f"folder for the figure and JSON (default results/studies/{self.name})")
        parser.add_argument("--seed", type=int, default=0, help="seed of every sample stream (default 0)")
        # Inside a notebook or the docs gallery the kernel's own arguments are not the study's.
        argv = self.argv if self.argv is not None else ([] if "ipykernel" in sys.modules else sys.argv[1:])
        args = parser.parse_args(argv)
        self.quick = bool(args.quick or os.environ.get("QCGRAD_STUDY_QUICK") == "1")
        self.seed = int(args.seed)
        self.out = Path(args.out) if args.out else Path("results") / "studies" / self.name
        self.out.mkdir(parents=True, exist_ok=True)

    def pick(self, quick: Any, full: Any) -> Any:
        """``quick`` in quick mode, else ``full`` (sizes, sample counts)."""
        return quick if self.quick else full

    def add(self, claim: Claim) -> Claim:
        """Record a claim; returns it."""
        self.claims.append(claim)
        return claim

    def save_figure(self, fig: Any, name: str | None = None) -> Path:
        """Save a matplotlib figure as ``<out>/<name>.png`` (the study's name by default)."""
        path = self.out / f"{name or self.name}.png"
        fig.savefig(path, dpi=120, bbox_inches="tight")
        return path

    @property
    def all_agree(self) -> bool:
        """True when every recorded claim agrees."""
        return all(c.agrees for c in self.claims)

    def finish(self, data: dict[str, Any] | None = None, echo: bool = True) -> bool:
        """Write ``<out>/<name>.json`` (claims, verdicts, numbers) and print the verdict table."""
        record = {"study": self.name, "quick": self.quick, "seed": self.seed,
                  "claims": [c.to_dict() for c in self.claims], "all_agree": self.all_agree,
                  "data": data or {}}
        (self.out / f"{self.name}.json").write_text(json.dumps(record, indent=2, default=_jsonable))
        if echo:
            print(verdict_table(self.claims))
            print(f"\n{sum(c.agrees for c in self.claims)} of {len(self.claims)} claims agree; "
                  f"results in {self.out}")
        return self.all_agree


def _jsonable(value: Any) -> Any:
    """JSON fallback for numpy scalars/arrays and tuples of them."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
