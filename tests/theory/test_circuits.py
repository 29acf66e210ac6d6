"""Circuit predictions against closed forms derived here and against the engine's measured variances.

Monte-Carlo tolerance: 4 SE with SE = Var·sqrt((κ−1)/S) from the sample kurtosis κ (what
``gradient_variance`` reports); seeds fixed.
"""
from __future__ import annotations

import math
import warnings

import pennylane as qml
import pytest
import torch
from freefermion import free_fermion

import qcgrad as qg
from qcgrad.theory import predict


def cost_variance(model, n_samples: int, seed: int) -> tuple[float, float]:
    """(Var[C], SE) over init samples, SE = Var·sqrt((κ−1)/S)."""
    c = model.cost(model.sample_params(torch.Generator().manual_seed(seed), n_samples)).double()
    d = c - c.mean()
    var = float(d.square().mean() * n_samples / (n_samples - 1))
    kurt = float(d.pow(4).mean() / d.square().mean() ** 2)
    return var, var * math.sqrt((kurt - 1) / n_samples)


# Free fermions, g = so(2n) with dim n(2n−1); P_g(ρ) = (n−1)/2^n and P_g(Z0Z1) = 2^n (test_lie_algebra). For H = X_q/2
# a basis word P/√2^n of g gives ‖[H, P]‖²/2^n = 1 when P anticommutes with X_q, else 0; in Majoranas X_q ∝ c_2q c_2q+1
# and c_a c_b anticommutes with it iff exactly one of a, b is 2q or 2q+1: 2·2(n−1) words, so ‖ad_H‖² = 4(n−1).
def ff_cost(n: int) -> float:
    return (n - 1) / (n * (2 * n - 1))                       # P_g(ρ)P_g(O)/dim g


def ff_middle_rx(n: int) -> float:
    return 4 * (n - 1) ** 2 / (n ** 2 * (2 * n - 1) ** 2)     # P_g(ρ)P_g(O)‖ad_H‖²/dim g²


@pytest.mark.parametrize("n", [4, 5, 6])
def test_free_fermion_prediction_and_engine(n):
    n_layers = 40
    model = free_fermion(n, n_layers)
    middle = (2 * n - 1) * (n_layers // 2) + n // 2  # an RX in the middle layer
    assert predict(model, of="cost").variance == pytest.approx(ff_cost(n), rel=1e-9)
    assert predict(model, params=middle).variance == pytest.approx(ff_middle_rx(n), rel=1e-9)
    var, se = cost_variance(model, 600, seed=n)
    assert abs(var - ff_cost(n)) < 4 * se
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = qg.gradient_variance(model, n_samples=600, seed=n, params=middle)
    assert abs(est.variance - ff_middle_rx(n)) < 4 * est.se


def mcclean(d: int, delta_h: float, delta_o: float, delta_rho: float) -> float:
    """Both halves unitary 2-designs: Var[∂C] = 2d·ΔH·ΔO·Δρ/(d²−1)² (McClean 2018; Holmes 2022)."""
    return 2 * d * delta_h * delta_o * delta_rho / (d * d - 1) ** 2


def test_su_prediction_equals_the_2_design_closed_forms():
    n, d = 3, 8
    model = qg.quantum.circuit("hardware_efficient", n_qubits=n, n_layers=30)
    # ZZ: ΔO = d; pure ρ: Δρ = 1 − 1/d; H = Y/2 or Z/2: ΔH = d/4.
    middle = 2 * n * 15 + 1
    assert predict(model, params=middle).variance == pytest.approx(mcclean(d, d / 4, d, 1 - 1 / d))
    # First gate RY on |0⟩, nothing before it: one-sided ΔO·Tr(A²)/(d²−1), Tr(A²) = 2 Var_ρ(Y/2) = 1/2.
    assert predict(model).variance == pytest.approx(d * 0.5 / (d * d - 1))
    assert predict(model, of="cost").variance == pytest.approx(d * (1 - 1 / d) / (d * d - 1))


def test_hardware_efficient_deep_agrees_with_2_design():
    n, d = 3, 8
    model = qg.quantum.circuit("hardware_efficient", n_qubits=n, n_layers=40)
    middle = 2 * n * 20 + 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = qg.gradient_variance(model, n_samples=800, seed=3, params=middle)
    assert abs(est.variance - mcclean(d, d / 4, d, 1 - 1 / d)) < 4 * est.se


def test_random_pauli_first_averages_the_random_axis():
    # RY(π/4)|0⟩ has Bloch vector (1/√2, 0, 1/√2): Var_ρ(P/2) = (1 − r_P²)/4 = 1/8, 1/4, 1/8 for X, Y, Z.
    n, d = 4, 16
    model = qg.quantum.circuit("random_pauli", n_qubits=n, n_layers=48)
    tr_a2 = 2 * (1 / 8 + 1 / 4 + 1 / 8) / 3
    assert predict(model).variance == pytest.approx(d * tr_a2 / (d * d - 1))


@pytest.mark.parametrize("cost, gradient, value", [("global", True, (1 / 8) * (3 / 8) ** 4),
                                                   ("local", True, 1 / (8 * 25)),
                                                   ("global", False, (3 / 8) ** 5 - (1 / 4) ** 5),
                                                   ("local", False, 1 / 40)])
def test_tensor_product_uses_cerezo_closed_forms(cost, gradient, value):
    model = qg.quantum.circuit("tensor_product", n_qubits=5, cost=cost)
    p = predict(model, params=3, of="gradient" if gradient else "cost")
    assert p.variance == pytest.approx(value) and "Cerezo" in p.reference


@pytest.mark.parametrize("build, match", [
    (lambda: qg.quantum.circuit("random_pauli", n_qubits=3, n_layers=4, noise="depolarizing:0.1"), "noise"),
    (lambda: qg.quantum.circuit("random_pauli", n_qubits=3, n_layers=4, shots=100), "shots"),
    (lambda: qg.quantum.circuit("hardware_efficient", n_qubits=3, n_layers=4, init="small_angle"), "init"),
    (lambda: qg.quantum.circuit("tensor_product", n_qubits=3, cost=qml.X(0)), "abelian"),
    (lambda: qg.quantum.circuit("tensor_product", n_qubits=3, cost="zz"), "neither O nor ρ"),
    (lambda: qg.quantum.circuit("hva", n_qubits=4, n_layers=4, init="identity_block"), "init"),
    (lambda: qg.classical.resnet(depth=2, width=4), "architecture"),
])
def test_refusals_name_the_failed_assumption(build, match):
    with pytest.raises(ValueError, match=match):
        predict(build())


def test_parameterized_qubit_unitary_is_refused():
    def layer(angles, wires):
        qml.RX(angles[0], wires=wires[0])
        c, s = torch.cos(angles[1]), torch.sin(angles[1])
        qml.QubitUnitary(torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2), wires=wires[1])

    model = qg.quantum.circuit(layer, n_qubits=2, n_layers=2, angles_per_layer=2, cost="zz")
    with pytest.raises(ValueError, match="no Pauli generator"):
        predict(model)


def test_non_pauli_observable_is_refused():
    model = qg.quantum.circuit("hardware_efficient", n_qubits=2, n_layers=2,
                               cost=qml.Hermitian(torch.tensor([[1.0, 2.0], [2.0, -1.0]]), wires=0))
    with pytest.raises(ValueError, match="Pauli"):
        predict(model)


def test_bad_of_is_refused():
    with pytest.raises(ValueError, match="of='variance'"):
        predict(qg.quantum.circuit("tensor_product", n_qubits=2, cost="local"), of="variance")


def test_hva_reductive_dla_agrees_with_engine():
    """HVA (TFIM, n = 4): g = simple ideal(s) ⊕ center, one shared angle per layer and generator; the
    engine at depth 24 (the middle β) must agree within 4 SE (SE = Var·sqrt((κ−1)/S)) with the sum
    over simple ideals."""
    model = qg.quantum.circuit("hva", n_qubits=4, n_layers=24, cost="tfim")
    param = 25  # β of layer 12
    p = predict(model, params=param)
    assert p.details["dla"]["center_dim"] >= 1 and not p.details["params"][0]["one_sided"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = qg.gradient_variance(model, n_samples=300, seed=7, params=param)
    assert abs(est.variance - p.variance) < 4 * est.se
