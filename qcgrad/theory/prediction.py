"""A prediction is a result: the value, the formula, what must hold, and where it comes from."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Prediction:
    """A theory value with its conditions.

    Attributes
    ----------
    variance : float or None
        Predicted Var[∂C/∂θ] (or Var[C] for ``of="cost"``) of the model as built; None when
        the theory gives only a rate (e.g. the per-step factor of an RNN).
    formula : str
        The formula used, in words and symbols.
    assumptions : list[str]
        What must hold for the value to apply.
    reference : str
    base : float or None
        Predicted decay base b of Var ∝ b^-knob along the model's size knob, when the theory
        gives one (1/χ₁ per layer for deep nets).
    details : dict
        Intermediate quantities (purities, dim g, q*, χ₁, ...).
    """

    variance: float | None
    formula: str
    assumptions: list[str]
    reference: str
    base: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float | None:
        """ln b, the decay rate per unit of the knob (None without a base)."""
        return None if self.base is None or self.base <= 0 else math.log(self.base)

    def to_dict(self) -> dict[str, Any]:
        return {"variance": self.variance, "formula": self.formula, "assumptions": list(self.assumptions),
                "reference": self.reference, "base": self.base, "rate": self.rate, "details": dict(self.details)}

    def __str__(self) -> str:
        value = "-" if self.variance is None else f"{self.variance:.6g}"
        lines = [f"prediction: {value}" + ("" if self.base is None else f"  (base b = {self.base:.4g} per unit)"),
                 f"formula: {self.formula}", f"reference: {self.reference}", "assumptions:"]
        return "\n".join(lines + [f"  - {a}" for a in self.assumptions])
