"""Measured vs predicted: per point of a scan, the theory value, the ratio, a z-score and a verdict.

For each point, z = (measured − predicted) / SE with the estimator's standard error
SE = Var·sqrt((κ−1)/S). The verdict is

- ``"agrees"``: |z| ≤ ``z_max`` or |ratio − 1| ≤ ``rtol`` (mean-field values carry finite-width
  corrections of a few per cent, which large samples resolve);
- ``"not converged in depth"``: a deep-circuit-limit prediction that disagrees at a depth
  below ``LAYERS_PER_QUBIT``·n (random circuits need depth of order 12n to become designs),
  or before the tail of a depth scan has flattened;
- ``"disagrees"`` otherwise, and ``"no prediction"`` with the reason when the theory refuses.
"""
from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import torch

from ..stats import DecayFit, fit_decay
from .prediction import Prediction

#: Depth per qubit below which a deep-circuit prediction is not expected to hold yet.
LAYERS_PER_QUBIT = 12


def rebuild(description: dict[str, Any]):
    """A built-in model from its ``describe()`` dict (user circuits and modules cannot be rebuilt).

    Examples
    --------
    >>> import qcgrad as qg
    >>> rebuild(qg.classical.mlp(depth=3, width=8).describe()).describe()["depth"]
    3
    """
    from .. import classical, quantum

    d = dict(description)
    if d.get("family") == "quantum":
        if d.get("ansatz") not in quantum.ANSATZE or str(d.get("cost", "")).startswith("observable:"):
            raise ValueError(f"cannot rebuild {d.get('ansatz')!r} with cost {d.get('cost')!r} from its description; "
                             "pass build=")
        options = {k: d[k] for k in ("topology", "block_size", "noise", "shots") if k in d}
        return quantum.circuit(d["ansatz"], n_qubits=d["n_qubits"], n_layers=d["n_layers"], cost=d["cost"],
                               init=d.get("init", "uniform"), **options)
    builder = classical.ARCHITECTURES.get(str(d.get("architecture")))
    if builder is None:
        raise ValueError(f"cannot rebuild architecture={d.get('architecture')!r} from its description; pass build=")
    accepted = inspect.signature(builder).parameters
    knobs = {k: v for k, v in d.items() if k in accepted and k != "dtype"}
    if "dtype" in d:
        knobs["dtype"] = getattr(torch, str(d["dtype"]))
    return builder(**knobs)


def predicted(scan, build: Callable[[Any], Any] | None = None, of: str = "gradient") -> list[Prediction | str]:
    """The prediction at every point of ``scan`` (a :class:`qcgrad.Scan`), or the refusal reason.

    Parameters
    ----------
    scan : Scan
    build : callable, optional
        ``value -> Model`` as given to :func:`qcgrad.scan`; without it built-in models are
        rebuilt from their recorded descriptions.
    of : {"gradient", "cost"}
    """
    from . import predict

    out: list[Prediction | str] = []
    for value, est in zip(scan.values, scan.estimates, strict=True):
        try:
            model = build(value) if build is not None else rebuild(est.model)
            out.append(predict(model, params=est.params, of=of))
        except ValueError as err:
            out.append(str(err))
    return out


def verdict(measured: float, se: float, prediction: Prediction | None, model: dict[str, Any],
            z_max: float = 3.0, rtol: float = 0.1, converged: bool = True) -> tuple[float, float, str]:
    """(ratio, z, verdict) of one point."""
    if prediction is None or prediction.variance is None:
        return math.nan, math.nan, "no prediction"
    p = prediction.variance
    ratio = measured / p if p else math.inf
    z = (measured - p) / se if se > 0 else (0.0 if measured == p else math.inf)
    if abs(z) <= z_max or abs(ratio - 1) <= rtol:
        return ratio, z, "agrees"
    deep_limit = model.get("family") == "quantum" and "tensor product" not in prediction.formula
    shallow = model.get("n_layers", 0) < LAYERS_PER_QUBIT * model.get("n_qubits", 0)
    if deep_limit and (shallow or not converged):
        return ratio, z, "not converged in depth"
    return ratio, z, "disagrees"


def compare_theory(scan, build: Callable[[Any], Any] | None = None, of: str = "gradient", z_max: float = 3.0,
                   rtol: float = 0.1) -> list[dict[str, Any]]:
    """Measured vs predicted at every point of ``scan``.

    Returns
    -------
    list of dict
        Per point: ``value``, ``measured``, ``se``, ``predicted`` (None when refused), ``ratio``,
        ``z``, ``verdict``, and ``prediction`` (its dict, or ``{"refused": reason}``).

    Examples
    --------
    >>> import qcgrad as qg
    >>> s = qg.scan(lambda n: qg.quantum.circuit("tensor_product", n_qubits=n, cost="local"), [2, 3], n_samples=400)
    >>> [row["verdict"] for row in compare_theory(s)]
    ['agrees', 'agrees']
    """
    preds = predicted(scan, build, of)
    # Points of a depth scan before its flattened tail are not expected to match a deep limit.
    tail_flat = scan.knob == "n_layers" and len(scan.estimates) >= 3 and scan.converged()
    rows = []
    for i, (value, est, pred) in enumerate(zip(scan.values, scan.estimates, preds, strict=True)):
        prediction = pred if isinstance(pred, Prediction) else None
        converged = scan.knob != "n_layers" or (tail_flat and i >= len(scan.values) - 3)
        ratio, z, verdict_ = verdict(est.variance, est.se, prediction, est.model, z_max, rtol, converged)
        rows.append({"value": value, "measured": est.variance, "se": est.se,
                     "predicted": prediction.variance if prediction else None, "ratio": ratio, "z": z,
                     "verdict": verdict_,
                     "prediction": prediction.to_dict() if prediction else {"refused": pred}})
    return rows


def theory_fit(values: list[Any], predictions: list[float | None],
               kind: Literal["auto", "exponential", "power"] = "auto", knob: str = "x") -> DecayFit | None:
    """The decay fit (rate, base) of predicted variances along a knob; None with < 3 positive values."""
    pairs = [(v, p) for v, p in zip(values, predictions, strict=True) if p is not None and p > 0]
    if len(pairs) < 3:
        return None
    x, y = zip(*pairs, strict=True)
    return fit_decay(np.array(x, dtype=float), np.array(y), kind=kind, knob=knob)
