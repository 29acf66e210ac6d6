r"""Predicted gradient and cost variances of parameterized circuits, from their Lie algebra.

Notation: the circuit is U = V·Π_k exp(−iθ_k H'_k) on the initial state ρ (a pure product
state), the cost is C = Tr[U ρ U† O], g is the DLA (:mod:`qcgrad.theory.lie_algebra`), d = 2ⁿ,
P_g(X) = Σ_j Tr(B_j X)² the g-purity over a Hilbert–Schmidt orthonormal basis B_j of ig, and
‖ad_H‖² = Σ_j ‖[H, B_j]‖²_HS. For a reductive g = ⊕_j g_j ⊕ z every sum below runs over the
simple ideals g_j (the center z leaves the cost unchanged and contributes nothing).

**Deep-circuit limit** (Ragone et al. 2024, Nat. Commun. 15, 7172; Fontana et al. 2024,
Nat. Commun. 15, 7171). When the circuit forms a 2-design on the group G = exp(g), and
O ∈ ig or ρ ∈ ig (up to multiples of the identity),

    Var[C] = Σ_j P_{g_j}(ρ) P_{g_j}(O) / dim g_j.

For the partial derivative of parameter k, whose gate is exp(−iθ_k H_k):

- *two-sided* (both the circuit before and the circuit after gate k are 2-designs on G):
  Var[∂_k C] = Σ_j P_{g_j}(ρ) P_{g_j}(O) ‖ad_{H_k}|_{g_j}‖² / (dim g_j)²;
- *one-sided* (no parameterized gate in the backward light cone of gate k, e.g. the first
  parameter, so the part before it is fixed; the part after it is a 2-design on G):
  Var[∂_k C] = Σ_j P_{g_j}(O) P_{g_j}(A_k) / dim g_j with A_k = i[H'_k, ρ].

**Full su(2ⁿ)** (McClean et al. 2018, Nat. Commun. 9, 4812; both halves unitary 2-designs):
the formulas reduce to Var[C] = ΔO·Δρ/(d² − 1) and Var[∂_k C] = 2d·ΔH·ΔO·Δρ/(d² − 1)², with
ΔX = Tr(X²) − Tr(X)²/d, and one-sided Var[∂_k C] = ΔO·Tr(A_k²)/(d² − 1), Tr(A_k²) = 2 Var_ρ(H).

**Tensor-product ansatz** (Cerezo et al. 2021, Nat. Commun. 12, 1791): RX(θ_q) on |0…0⟩ has
an abelian DLA (no simple ideal, the formula above does not apply), but closed forms:
global cost 1 − Π_q cos²(θ_q/2): Var[∂C] = (1/8)(3/8)^(n−1), Var[C] = (3/8)ⁿ − (1/4)ⁿ;
local cost 1 − (1/n)Σ_q cos²(θ_q/2): Var[∂C] = 1/(8n²), Var[C] = 1/(8n).

**Refusals.** Noise: the Lie-algebraic formulas are for unitary circuits, and Wang et al.
2021 (Nat. Commun. 12, 6961) bound noisy gradients from above (|∂C| ≤ F(n)·q^{L}) rather than
give their variance, so no value is returned. Finite shots, non-uniform inits (the designs
need angles that cover a period), shared parameters, gates without a Pauli generator,
observables without a Pauli decomposition, O ∉ ig with ρ ∉ ig, an abelian DLA outside the
closed forms, and a DLA above ``max_dim``: ValueError naming the failed assumption.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..gradients import resolve_params
from . import pauli
from .heisenberg import read_circuit
from .lie_algebra import DLA, MAX_DIM, dla_from_reading
from .prediction import Prediction

RAGONE = ("Ragone et al. 2024, Nat. Commun. 15, 7172; Fontana et al. 2024, Nat. Commun. 15, 7171")
MCCLEAN = "McClean et al. 2018, Nat. Commun. 9, 4812"
CEREZO = "Cerezo et al. 2021, Nat. Commun. 12, 1791"
WANG = "Wang et al. 2021, Nat. Commun. 12, 6961"
SUPPORTED = ("supported: noiseless exact circuits with init='uniform', gates exp(−iθ_k H_k) with Pauli-sentence "
             "generators (one parameter each), a Pauli-sentence cost with O or ρ in the DLA, or the tensor_product "
             "ansatz with the global/local cost")
OF = ("gradient", "cost")


def _refuse(reason: str) -> ValueError:
    return ValueError(f"no prediction: {reason}; {SUPPORTED}")


def check_model(model) -> None:
    """Raise ValueError when the model breaks an assumption every circuit formula needs."""
    if getattr(model, "noise", None) is not None:
        raise _refuse(f"noise={model.describe().get('noise')!r}: the formulas are for unitary circuits, and the "
                      f"noise-induced decay of {WANG} is an upper bound on |∂C|, not a variance")
    if getattr(model, "shots", None) is not None:
        raise _refuse(f"shots={model.shots}: the formulas give exact-expectation variances; shot noise adds to them")
    if str(model.init).split(":")[0] != "uniform":
        raise _refuse(f"init={model.init!r}: the design assumptions need independent uniform angles (init='uniform')")


def _tensor_product(model, of: str) -> Prediction:
    n, cost = model.n_qubits, model.cost_spec.name
    assumptions = ["RX(θ_q) on every qubit of |0…0⟩, θ_q independent and uniform on [0, 2π)"]
    if cost == "global":
        value = 0.125 * 0.375 ** (n - 1) if of == "gradient" else 0.375 ** n - 0.25 ** n
        formula = "(1/8)(3/8)^(n−1)" if of == "gradient" else "(3/8)^n − (1/4)^n"
    else:
        value = 1 / (8 * n * n) if of == "gradient" else 1 / (8 * n)
        formula = "1/(8n²)" if of == "gradient" else "1/(8n)"
    return Prediction(value, f"tensor product, {cost} cost: Var = {formula}", assumptions, CEREZO,
                      details={"n_qubits": n, "cost": cost, "dla_dim": n, "abelian": True})


def _expectation(s: dict, bloch: np.ndarray, n: int) -> complex:
    if not s:
        return 0.0
    keys = np.fromiter(s, np.int64)
    vals = np.array(list(s.values()))
    return complex(np.sum(vals * pauli.expectations(keys, bloch, n)))


def _state_variance(h: dict, bloch: np.ndarray, n: int) -> float:
    """Var_ρ(H) = ⟨H²⟩ − ⟨H⟩² on the product state."""
    mean = _expectation(h, bloch, n).real
    return float(_expectation(pauli.product_sentence(h, h, n), bloch, n).real - mean ** 2)


def _gradient_terms(g: DLA, h: dict, one_sided: bool, bloch: np.ndarray) -> tuple[float, list[dict]]:
    """Σ over simple ideals of the two- or one-sided term for generator h (state: Bloch rows ``bloch``)."""
    n, d = g.n_qubits, 2.0 ** g.n_qubits
    if g.full:
        ideal = g.ideals[0]
        traceless = {k: c for k, c in h.items() if k != 0}
        if one_sided:
            tr_a2 = 2 * _state_variance(h, bloch, n)
            return ideal.purity_observable * tr_a2 / ideal.dim, [{"kind": ideal.kind, "tr_A2": tr_a2}]
        ad2 = 2 * d * d * pauli.norm2(traceless)  # ‖ad_H‖² = 2d·ΔH on su(d)
        value = ideal.purity_state * ideal.purity_observable * ad2 / ideal.dim ** 2
        return value, [{"kind": ideal.kind, "ad_norm2": ad2}]
    ad = g.ad(g.coordinates(h))
    total, terms = 0.0, []
    if one_sided:
        a = ad.T @ g.state_coordinates()  # A = i[H, ρ] in g's coordinates
    for ideal in g.ideals:
        coords = ideal.coords
        assert coords is not None  # only the su(2^n) ideal, handled above, has no coordinates
        if one_sided:
            p_a = float(np.sum((coords @ a) ** 2))
            term = ideal.purity_observable * p_a / ideal.dim
            terms.append({"kind": ideal.kind, "purity_A": p_a, "term": term})
        else:
            ad2 = float(np.sum((ad @ coords.T) ** 2))
            term = ideal.purity_state * ideal.purity_observable * ad2 / ideal.dim ** 2
            terms.append({"kind": ideal.kind, "ad_norm2": ad2, "term": term})
        total += term
    return total, terms


def predict_circuit(model, params="first", of: str = "gradient", max_dim: int = MAX_DIM, seed: int = 0) -> Prediction:
    """Predicted variance of a circuit's partial derivatives (or cost) in the deep-circuit limit.

    See the module docstring for the formulas and when each applies.

    Parameters
    ----------
    model : CircuitModel
    params : ParamSpec
        Which partials (as in :func:`qcgrad.gradient_variance`); several are averaged.
    of : {"gradient", "cost"}
    max_dim : int
        Bound on the DLA dimension.
    seed : int
        Sample whose frozen structure is read (random_pauli).

    Returns
    -------
    Prediction

    Examples
    --------
    >>> import qcgrad as qg
    >>> p = predict_circuit(qg.quantum.circuit("tensor_product", n_qubits=3, cost="local"))
    >>> round(p.variance * 8 * 9, 12)
    1.0
    """
    if of not in OF:
        raise ValueError(f"of={of!r} is not allowed; use one of {OF}")
    check_model(model)
    indices = resolve_params(model, params).tolist()
    if model.describe().get("ansatz") == "tensor_product" and model.cost_spec.name in ("global", "local"):
        return _tensor_product(model, of)
    reading = read_circuit(model, indices, seed=seed)
    if reading.shared:
        raise _refuse(f"parameters {reading.shared[:5]} each drive several gates that are not adjacent or do not "
                      "commute; the formulas assume one independent angle per generator")
    g = dla_from_reading(reading, max_dim=max_dim, seed=seed)
    if not (g.observable_in_algebra or g.state_in_algebra):
        raise _refuse(f"neither O nor ρ lies in the DLA (P_g(O) = {g.purity_observable:.4g}, "
                      f"P_g(ρ) = {g.purity_state:.4g}); the formulas need O ∈ ig or ρ ∈ ig")
    if not g.full and g.adjoint is None:
        raise _refuse(f"dim g = {g.dim} is too large to decompose into simple ideals here")
    if not g.ideals:
        raise _refuse("the DLA is abelian (no simple ideal): the Lie-algebraic variance formula does not apply")
    if any(not i.simple and (i.purity_state or i.purity_observable) for i in g.ideals):
        raise _refuse("a part of the DLA could not be split into simple ideals")
    assumptions = ["angles independent and uniform; the circuit is deep enough to be a 2-design on the DLA group "
                   "(the deep-circuit limit: compare against Var vs n_layers)",
                   "O ∈ ig" if g.observable_in_algebra else "ρ ∈ ig",
                   "g reductive: sum over its simple ideals; the center contributes nothing"]
    reference = MCCLEAN + "; " + RAGONE if g.full else RAGONE
    details: dict[str, Any] = {"dla": g.to_dict()}
    if of == "cost":
        value = sum(i.purity_state * i.purity_observable / i.dim for i in g.ideals)
        formula = "Var[C] = Σ_j P_gj(ρ) P_gj(O) / dim g_j" + ("  (su(2^n): ΔO·Δρ/(d²−1))" if g.full else "")
        return Prediction(float(value), formula, assumptions, reference, details=details)
    values, per = [], []
    missing = [k for k in indices if k not in reading.tracked]
    if missing:
        raise _refuse(f"parameters {missing[:5]} enter no gate of the circuit")
    for k in indices:
        one_sided = reading.one_sided[k]
        # Several generators: a random axis drawn per sample, each equally likely; average them.
        alternatives = [_gradient_terms(g, h, one_sided, reading.bloch) for h in reading.tracked[k]]
        value = float(np.mean([a[0] for a in alternatives]))
        terms = [t for a in alternatives for t in a[1]]
        values.append(value)
        per.append({"param": k, "one_sided": one_sided, "variance": value, "terms": terms})
    if any(len(reading.tracked[k]) > 1 for k in indices):
        assumptions.append("random-axis rotations: the axis is X, Y or Z with probability 1/3 each (averaged "
                           "exactly); the DLA is that of one draw of the gate axes")
    sides = {p["one_sided"] for p in per}
    if True in sides:
        assumptions.append("one-sided (no parameterized gate in the backward light cone of the gate): the circuit "
                           "after the gate is a 2-design on G")
    if False in sides:
        assumptions.append("two-sided: the circuits before and after the gate are each 2-designs on G")
    formula = ("Var[∂C] = Σ_j P_gj(O) P_gj(i[H,ρ]) / dim g_j (one-sided)" if sides == {True} else
               "Var[∂C] = Σ_j P_gj(ρ) P_gj(O) ‖ad_H|g_j‖² / (dim g_j)²" if sides == {False} else
               "mean of one-sided and two-sided Lie-algebraic values")
    details["params"] = per if len(per) <= 64 else per[:64]
    return Prediction(float(np.mean(values)), formula, assumptions, reference, details=details)
