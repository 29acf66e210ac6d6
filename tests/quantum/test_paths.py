"""Pauli-path gradient variance against independent truth: closed forms, exact quadrature, the engine."""
import itertools
import math

import numpy as np
import pennylane as qml
import pytest
import torch

import qcgrad as qg
from qcgrad.quantum.paths import paths_reason, paths_recommended, paths_variance
from qcgrad.quantum.paths.reader import read
from qcgrad.quantum.paths.region import restrict, rows


def _engine_variance(model, index: int, n_samples: int, seed: int = 1) -> tuple[float, float]:
    """Sampled Var[∂C/∂θ_index] on the engine and its SE = Var·sqrt((κ−1)/S)."""
    params = model.sample_params(torch.Generator().manual_seed(seed), n_samples)
    g = model.grad(params, torch.tensor([index]))[:, 0].numpy()
    var = g.var(ddof=1)
    kurtosis = ((g - g.mean()) ** 4).mean() / ((g - g.mean()) ** 2).mean() ** 2
    return var, var * math.sqrt((kurtosis - 1) / n_samples)


def _quadrature(model) -> np.ndarray:
    """E[(∂C/∂θ_k)²] for every parameter k, exactly, from engine gradients on a grid.

    C is a trigonometric polynomial of degree ≤ 1 in every angle, so (∂_k C)² has degree ≤ 2
    in each, and its average over θ ~ U[0, 2π) equals the average over 3 equally spaced
    angles per parameter (an exact quadrature); random_pauli's axis codes are enumerated
    with their probability ⅓ each.
    """
    trainable = model.trainable.numpy()
    grid = np.array(list(itertools.product([0.0, 2 * math.pi / 3, 4 * math.pi / 3], repeat=int(trainable.sum()))))
    codes = list(itertools.product([0.0, 1.0, 2.0], repeat=int((~trainable).sum())))
    params = np.zeros((len(grid) * len(codes), model.n_params))
    params[:, trainable] = np.repeat(grid, len(codes), axis=0)
    params[:, ~trainable] = np.tile(np.array(codes).reshape(len(codes), -1), (len(grid), 1))
    return (model.grad(torch.tensor(params)).numpy() ** 2).mean(axis=0)[trainable]


def _user_layer(angles, wires):
    for j, w in enumerate(wires):
        qml.RX(angles[j], wires=w)
    qml.CNOT(wires=[wires[0], wires[1]])
    qml.IsingZZ(angles[len(wires)], wires=[wires[1], wires[2]])
    qml.S(wires=wires[2])
    qml.Hadamard(wires=wires[0])


# --- closed forms ------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_deep_random_pauli_reaches_the_two_design_value(n):
    # McClean 2018, ∂C/∂θ₀ of random_pauli + zz: θ₀ is the first gate, so everything after it is
    # U₊ and (L = 200) mixes the string weights to uniform over the 4^n − 1 non-identity strings
    # (a 2-design's second moments). Then Var = (2/3)·Σ_{s₀≠I}⟨s⟩²_ρ/(4^n − 1) with ρ a pure
    # product state (Σ_{s₀≠I}⟨s⟩² = 2^(n−1)): Var = d/(3(d² − 1)), d = 2^n.
    d = 2**n
    model = qg.quantum.circuit("random_pauli", n_qubits=n, n_layers=200, cost="zz")
    assert paths_variance(model).variance == pytest.approx(d / (3 * (d * d - 1)), abs=1e-9)


@pytest.mark.parametrize("n", range(1, 13))
def test_tensor_product_matches_cerezo_closed_forms(n):
    # Cerezo 2021, RX(θᵢ) on |0…0⟩: global cost (1/8)(3/8)^(n−1), local cost 1/(8n²), exactly.
    glob = paths_variance(qg.quantum.circuit("tensor_product", n_qubits=n, cost="global"))
    local = paths_variance(qg.quantum.circuit("tensor_product", n_qubits=n, cost="local"), params="all")
    assert glob.variance == pytest.approx(0.125 * 0.375 ** (n - 1), rel=1e-12)
    assert local.variance == pytest.approx(1 / (8 * n * n), rel=1e-12)
    assert glob.exact and glob.se == 0 and glob.ci == (glob.variance, glob.variance) and glob.method == "paths"


# --- exact quadrature (cross moments, Cliffords, user circuits) -------------------------------

QUADRATURE_CASES = [
    ("random_pauli", "heisenberg", 2, 2),  # random axes, cross moments of XX, YY, ZZ
    ("random_pauli", "global", 2, 2),  # the projector's expansion
    ("hardware_efficient", "heisenberg", 3, 1),  # CNOTs, zero partials outside the light cone
    ("hardware_efficient", "tfim", 2, 2),
    ("strongly_entangling", "heisenberg", 2, 1),  # Rot decomposed into RZ RY RZ
    ("alternating_layered", "local", 4, 2),
]


@pytest.mark.parametrize("ansatz, cost, n, layers", QUADRATURE_CASES)
def test_exact_paths_equal_exact_quadrature(ansatz, cost, n, layers):
    model = qg.quantum.circuit(ansatz, n_qubits=n, n_layers=layers, cost=cost)
    truth = _quadrature(model)
    for k in range(len(truth)):
        assert paths_variance(model, params=k).variance == pytest.approx(truth[k], abs=1e-12)
    nonzero = truth[truth > 1e-12]
    est = paths_variance(model, params="all")
    assert est.variance == pytest.approx(nonzero.mean(), abs=1e-12)
    assert len(est.zero_by_construction) == len(truth) - len(nonzero)


def test_cross_moment_classes_are_exercised():
    # random_pauli + heisenberg: XX·YY ∝ ZZ commutes with the Z axis of every random rotation,
    # so for θ₂ (layer 1) pairs of different terms survive and carry signs; the quadrature test
    # above checks that partial's value.
    model = qg.quantum.circuit("random_pauli", n_qubits=2, n_layers=2, cost="heisenberg")
    start = rows(restrict(read(model), 2))
    assert (start.qx.any(axis=1) | start.qz.any(axis=1)).any()


def _signed_layer(angles, wires):
    qml.RX(angles[0], wires=wires[0])
    qml.Hadamard(wires=wires[1])
    qml.CZ(wires=wires)
    qml.RX(angles[1], wires=wires[0])
    qml.adjoint(qml.S(wires=wires[1]))


def _entangled_prep(wires):
    # Non-Clifford gates on the product state (absorbed into ρ), then an entangling Clifford.
    qml.RY(0.7, wires=wires[0])
    qml.RX(0.3, wires=wires[0])
    qml.RY(0.5, wires=wires[1])
    qml.RZ(0.2, wires=wires[1])
    qml.CNOT(wires=wires)


USER_CASES = [
    (_user_layer, 3, 4, qml.X(0) @ qml.Y(2) + 0.5 * qml.Z(1) - 0.3 * qml.Y(0) @ qml.X(2), None),
    # Pairs of different terms survive here and the Cliffords' signs on them matter (the value
    # changes when those signs are dropped).
    (_signed_layer, 2, 2, qml.Z(0) + 0.6 * qml.X(1) - 0.4 * qml.Y(1) + 0.3 * qml.Y(0) @ qml.Z(1), _entangled_prep),
]


@pytest.mark.parametrize("layer, n, per_layer, cost, prep", USER_CASES)
def test_user_circuits_with_cliffords_and_pauli_sums_equal_quadrature(layer, n, per_layer, cost, prep):
    model = qg.quantum.circuit(layer, n_qubits=n, n_layers=2, angles_per_layer=per_layer, cost=cost,
                               state_prep=prep)
    truth = _quadrature(model)
    for k in range(len(truth)):
        assert paths_variance(model, params=k).variance == pytest.approx(truth[k], abs=1e-12)


# --- against the engine's sampled variance ----------------------------------------------------

@pytest.mark.parametrize("n", [2, 3] + [pytest.param(n, marks=pytest.mark.slow) for n in (4, 5, 6, 7, 8)])
def test_exact_mcclean_matches_engine_samples(n):
    # L = 50 (not yet converged to the 2-design value at n ≥ 6); 4 SE with SE = Var·sqrt((κ−1)/S).
    model = qg.quantum.circuit("random_pauli", n_qubits=n, n_layers=50, cost="zz")
    var, se = _engine_variance(model, 0, 20_000)
    assert abs(paths_variance(model).variance - var) < 4 * se


@pytest.mark.parametrize("ansatz, cost, n, layers, index", [
    ("alternating_layered", "local", 6, 4, 2), ("hardware_efficient", "tfim", 4, 3, 1)])
def test_pauli_sum_costs_match_engine_samples(ansatz, cost, n, layers, index):
    model = qg.quantum.circuit(ansatz, n_qubits=n, n_layers=layers, cost=cost)
    var, se = _engine_variance(model, index, 20_000)
    assert abs(paths_variance(model, params=index).variance - var) < 4 * se


# --- path Monte Carlo -------------------------------------------------------------------------

@pytest.mark.parametrize("ansatz, cost, n, layers", [("random_pauli", "heisenberg", 3, 3),
                                                     ("alternating_layered", "local", 8, 6)])
def test_path_monte_carlo_is_unbiased_and_its_se_shrinks_as_one_over_sqrt_paths(ansatz, cost, n, layers):
    model = qg.quantum.circuit(ansatz, n_qubits=n, n_layers=layers, cost=cost)
    exact = paths_variance(model).variance
    small = paths_variance(model, n_paths=4_000, seed=0)
    large = paths_variance(model, n_paths=64_000, seed=1)
    for est in (small, large):  # within 4 of the estimate's own SE
        assert abs(est.variance - exact) < 4 * est.se
        assert not est.exact and est.n_paths == est.n_samples and est.ci[0] < est.variance < est.ci[1]
    # 16× the paths: SE / 4; the SE estimates themselves fluctuate by a few percent here.
    assert 3.2 < small.se / large.se < 5.0


def test_path_monte_carlo_reaches_a_thousand_qubits():
    model = qg.quantum.circuit("alternating_layered", n_qubits=1000, n_layers=4, cost="local")
    est = paths_variance(model, n_paths=20_000, seed=0)
    # Exact on the same light cone, from the DP: the local cost's 1/(2n) scaling carries the n.
    exact = paths_variance(model)
    assert exact.exact and abs(est.variance - exact.variance) < 4 * est.se
    small = qg.quantum.circuit("alternating_layered", n_qubits=10, n_layers=4, cost="local")
    assert exact.variance == pytest.approx(paths_variance(small).variance / 100**2, rel=1e-12)


def test_strings_wider_than_one_word():
    # A ring of 70 qubits puts all of them in θ₀'s light cone (two 64-bit words per string).
    # Two layers reach qubits −2..3 only, so for n ≥ 6 the ring's size cannot change the value:
    # the 6-qubit ring (checked against the engine through the tests above) is the truth.
    big = qg.quantum.circuit("random_pauli", n_qubits=70, n_layers=2, cost="zz", topology="ring")
    small = qg.quantum.circuit("random_pauli", n_qubits=6, n_layers=2, cost="zz", topology="ring")
    assert restrict(read(big), 0).tx.shape[1] == 2
    truth = paths_variance(small).variance
    assert paths_variance(big).variance == pytest.approx(truth, rel=1e-12)
    est = paths_variance(big, n_paths=20_000, seed=0)
    assert abs(est.variance - truth) < 4 * est.se


def test_same_seed_same_paths():
    model = qg.quantum.circuit("random_pauli", n_qubits=3, n_layers=4, cost="heisenberg")
    a, b = (paths_variance(model, params="all", n_paths=3000, seed=7) for _ in range(2))
    assert a.variance == b.variance and a.se == b.se


# --- scope and bad input ----------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, needle", [
    (dict(ansatz="hva", n_layers=2), "shared"),
    (dict(ansatz="random_pauli", noise="depolarizing:0.01"), "noise"),
    (dict(ansatz="random_pauli", shots=100), "shots"),
    (dict(ansatz="random_pauli", init="small_angle"), "init"),
    (dict(ansatz="hardware_efficient", n_layers=2, init="identity_block"), "init"),
])
def test_circuits_outside_the_method_are_refused_by_name(kwargs, needle):
    model = qg.quantum.circuit(n_qubits=3, **kwargs)
    assert needle in paths_reason(model)
    assert not paths_recommended(model)
    with pytest.raises(ValueError, match=needle):
        paths_variance(model)


def test_non_clifford_gate_after_a_rotation_is_refused_by_name():
    def layer(angles, wires):
        qml.RY(angles[0], wires=wires[0])
        qml.T(wires=wires[0])
    model = qg.quantum.circuit(layer, n_qubits=2, n_layers=1, angles_per_layer=1)
    with pytest.raises(ValueError, match="non-Clifford gate T"):
        paths_variance(model)


@pytest.mark.parametrize("n_paths", [0, -3, 1.5, True, "100"])
def test_bad_n_paths(n_paths):
    model = qg.quantum.circuit("tensor_product", n_qubits=2, cost="local")
    with pytest.raises(ValueError, match="n_paths"):
        paths_variance(model, n_paths=n_paths)


def test_auto_recommends_paths_where_they_pay():
    assert paths_recommended(qg.quantum.circuit("tensor_product", n_qubits=40, cost="local"))
    assert paths_recommended(qg.quantum.circuit("alternating_layered", n_qubits=30, n_layers=4, cost="local"))
    assert not paths_recommended(qg.quantum.circuit("random_pauli", n_qubits=12, n_layers=50, cost="zz"))


def test_gradient_variance_method_paths_and_auto():
    # The public entry point: method="paths" gives the exact value (Cerezo 2021's 1/(8n²)),
    # "auto" falls back to sampling where paths do not apply and records which method ran.
    model = qg.quantum.circuit("tensor_product", n_qubits=3, cost="local")
    est = qg.gradient_variance(model, method="paths")
    assert est.method == "paths" and est.exact and est.variance == pytest.approx(1 / 72, rel=1e-12)
    hva = qg.quantum.circuit("hva", n_qubits=3, n_layers=2)
    assert qg.gradient_variance(hva, method="auto", n_samples=20).method == "sample"
    with pytest.raises(ValueError, match="shared"):
        qg.gradient_variance(hva, method="paths")
