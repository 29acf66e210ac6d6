"""Costs: diagonals and Pauli-sum expectations equal the observables' matrices; Hamiltonians
are the textbook ones; bad specs and wires are refused."""
import numpy as np
import pennylane as qml
import pytest
import torch

from qcgrad.quantum import circuit
from qcgrad.quantum.costs import COST_SPECS, GLOBAL, LOCAL, ZZ, heisenberg, make_cost, tfim

X = np.array([[0, 1], [1, 0]], dtype=complex)
Y = np.array([[0, -1j], [1j, 0]])
Z = np.diag([1.0, -1.0]).astype(complex)


def _kron_at(n: int, ops: dict) -> np.ndarray:
    """⊗ over wires 0..n−1 (wire 0 most significant), identity where no op is given."""
    out = np.eye(1)
    for w in range(n):
        out = np.kron(out, ops.get(w, np.eye(2)))
    return out


@pytest.mark.parametrize("cost", [ZZ, GLOBAL, LOCAL])
@pytest.mark.parametrize("n", [2, 3])
def test_diagonal_matches_observable_matrix(cost, n):
    wires = list(range(n))
    m = torch.as_tensor(qml.matrix(cost.observable(wires), wire_order=wires))
    torch.testing.assert_close(m, torch.diag(cost.diagonal(n)).to(m.dtype), atol=1e-15, rtol=0)


def test_tfim_and_heisenberg_are_the_textbook_chains():
    n, h = 3, 0.7
    ising = -sum(_kron_at(n, {i: Z, i + 1: Z}) for i in range(n - 1)) - h * sum(_kron_at(n, {i: X}) for i in range(n))
    xxx = sum(_kron_at(n, {i: P, i + 1: P}) for i in range(n - 1) for P in (X, Y, Z))
    np.testing.assert_allclose(qml.matrix(tfim(n, h), wire_order=range(n)), ising, atol=1e-14)
    np.testing.assert_allclose(qml.matrix(heisenberg(n), wire_order=range(n)), xxx, atol=1e-14)


@pytest.mark.parametrize("spec", ["tfim", "tfim:h=0.3", "heisenberg", qml.X(0) @ qml.Y(2) + 0.5 * qml.Z(1)])
def test_pauli_sum_expectation_matches_dense_matrix(spec):
    n = 3
    cost = make_cost(spec)
    psi = torch.randn(4, 1 << n, dtype=torch.complex128, generator=torch.Generator().manual_seed(0))
    psi = psi / psi.norm(dim=1, keepdim=True)
    m = torch.as_tensor(qml.matrix(cost.observable(list(range(n))), wire_order=range(n)), dtype=torch.complex128)
    expected = torch.einsum("sx,xy,sy->s", psi.conj(), m, psi).real
    assert cost.diagonal(n) is None
    torch.testing.assert_close(cost.expectation(psi), expected, atol=1e-13, rtol=0)


def test_diagonal_user_hamiltonian_runs_on_the_adjoint_path_and_matches_default_qubit():
    h = qml.Hamiltonian([0.5, -1.0], [qml.Z(0), qml.Z(1) @ qml.Z(2)])
    assert make_cost(h).diagonal(3) is not None
    kw = dict(n_qubits=3, n_layers=2, cost=h)
    engine, ref = circuit("hardware_efficient", **kw), circuit("hardware_efficient", device="default.qubit", **kw)
    p = engine.sample_params(torch.Generator().manual_seed(0), 2)
    torch.testing.assert_close(engine.grad(p), ref.grad(p), atol=1e-10, rtol=0)
    assert engine.describe()["cost"].startswith("observable:")


@pytest.mark.parametrize("spec", sorted(COST_SPECS))
def test_building_the_observable_inside_a_qnode_applies_no_gates(spec):
    # ⟨0…0|H|0…0⟩ = H[0, 0]: any Pauli gate queued by building H would change it.
    n = 3
    cost = make_cost(spec)

    @qml.qnode(qml.device("default.qubit", wires=n))
    def empty_circuit():
        return qml.expval(cost.observable(list(range(n))))

    m = qml.matrix(cost.observable(list(range(n))), wire_order=range(n))
    assert abs(float(empty_circuit()) - m[0, 0].real) < 1e-14


@pytest.mark.parametrize("spec, n, match", [
    ("energy", 3, "not known"),
    ("tfim:g=1", 3, "knobs"),
    ("tfim:h=abc", 3, "real number"),
    ("zz", 1, "2 or more qubits"),
    (qml.Z(0) @ qml.Z(5), 3, r"wires \[5\]"),
])
def test_bad_costs_are_refused_with_the_allowed_values(spec, n, match):
    with pytest.raises(ValueError, match=match):
        circuit("hardware_efficient", n_qubits=n, cost=spec)


def test_cost_spec_is_recorded():
    assert circuit("hva", n_qubits=3, cost="tfim:h=0.5").describe()["cost"] == "tfim:h=0.5"


def test_integer_diagonals_are_int8_and_built_without_a_2n_index_array(monkeypatch):
    # #15.6: an int64 arange(2**n) took 6.4 GB at n = 28. Any arange of 2^n entries fails here.
    n = 12
    real_arange = torch.arange

    def small_arange(*args, **kwargs):
        out = real_arange(*args, **kwargs)
        assert out.numel() < 1 << n, "2^n index array built"
        return out

    monkeypatch.setattr(torch, "arange", small_arange)
    for cost in (make_cost("zz"), make_cost("global"), make_cost("local")):
        d = cost.diagonal(n)
        assert d.numel() == 1 << n
    assert make_cost("zz").diagonal(n).dtype == torch.int8
    assert make_cost("global").diagonal(n).dtype == torch.int8


@pytest.mark.parametrize("spec", ["zz", "global", "local", "tfim"])
def test_diagonal_of_100_qubits_is_refused_with_the_numbers(spec):
    # Not an OverflowError from a 2^100 allocation: a ValueError naming the size and the way out.
    with pytest.raises(ValueError, match=r"100 qubits needs 2\^100 x 8 bytes.*available"):
        make_cost(spec).engine_observable(100)


def test_a_100_qubit_model_refuses_its_gradient_before_allocating():
    # lightcone=False: the full state vector, which cannot fit (with "auto" the one-layer ZZ cost
    # runs on its light cone of a few qubits instead).
    qc = circuit("random_pauli", n_qubits=100, cost="zz", lightcone=False)
    with pytest.raises(ValueError, match=r"adjoint pass on 100 qubits needs .* GiB.*max_memory="):
        qc.grad(qc.sample_params(torch.Generator().manual_seed(0), 2))
