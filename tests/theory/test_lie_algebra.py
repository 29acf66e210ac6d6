"""DLA dimensions and purities against the literature and a direct matrix closure written here."""
from __future__ import annotations

import functools

import numpy as np
import pennylane as qml
import pytest
from freefermion import free_fermion

import qcgrad as qg
from qcgrad.theory import dla

I2, X, Y, Z = np.eye(2), np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.diag([1.0, -1.0])


def on(n: int, ops: dict[int, np.ndarray]) -> np.ndarray:
    """Kronecker product with ``ops[q]`` on qubit q (qubit 0 most significant), identity elsewhere."""
    return functools.reduce(np.kron, [ops.get(q, I2) for q in range(n)])


def cnot(n: int, c: int, t: int) -> np.ndarray:
    p0, p1 = np.diag([1.0, 0.0]), np.diag([0.0, 1.0])
    return on(n, {c: p0}) + on(n, {c: p1, t: X})


def matrix_closure_dim(generators: list[np.ndarray], cap: int = 10_000) -> int:
    """dim of the real Lie algebra spanned by i·H_k and nested commutators (Gram–Schmidt on matrices)."""
    basis: list[np.ndarray] = []
    elements: list[np.ndarray] = []

    def add(m: np.ndarray) -> bool:
        v = np.concatenate([m.real.ravel(), m.imag.ravel()])
        for b in basis:
            v = v - (b @ v) * b
        if np.linalg.norm(v) < 1e-9:
            return False
        basis.append(v / np.linalg.norm(v))
        elements.append(m / np.linalg.norm(m))
        return True

    for h in generators:
        add(1j * h)
    i = 0
    while i < len(elements) < cap:
        for j in range(i):
            add(elements[i] @ elements[j] - elements[j] @ elements[i])
        i += 1
    return len(basis)


def heisenberg_generators(n: int, layers: list[list[tuple]]) -> list[np.ndarray]:
    """H'_k = W_k† H_k W_k for a gate list of ("rot", H) and ("fixed", U), written with matrices here."""
    w = np.eye(2 ** n, dtype=complex)
    out = []
    for layer in layers:
        for kind, m in layer:
            if kind == "rot":
                out.append(w.conj().T @ m @ w)
            else:
                w = m @ w
    return out


def test_tensor_product_is_abelian_of_dim_n():
    g = dla(qg.quantum.circuit("tensor_product", n_qubits=5, cost="local"))
    assert g.dim == 5 == matrix_closure_dim([on(5, {q: X}) for q in range(5)])
    assert g.abelian and g.center_dim == 5 and not g.ideals


def test_hardware_efficient_3_qubits_is_full_su8():
    n, n_layers = 3, 3
    g = dla(qg.quantum.circuit("hardware_efficient", n_qubits=n, n_layers=n_layers))
    layers = [[("rot", on(n, {q: Y}) / 2) for q in range(n)] + [("rot", on(n, {q: Z}) / 2) for q in range(n)]
              + [("fixed", cnot(n, q, q + 1)) for q in range(n - 1)]] * n_layers
    assert matrix_closure_dim(heisenberg_generators(n, layers)) == 63
    assert g.full and g.dim == 63 and g.ideals[0].kind == "su(8)"
    # su(d): P_g(ρ) = 1 − 1/d for a pure state, P_g(Z0 Z1) = Tr(O²) = d.
    assert g.purity_state == pytest.approx(7 / 8) and g.purity_observable == pytest.approx(8)
    # su(2^n) is recognised without a basis: coordinates are refused by name, not with a TypeError.
    with pytest.raises(ValueError, match="has no basis"):
        g.coordinates({1: 1.0})


@pytest.mark.parametrize("n", [3, 4])
def test_free_fermion_is_so_2n(n):
    g = dla(free_fermion(n, 2))
    generators = [on(n, {q: X}) for q in range(n)] + [on(n, {q: Z, q + 1: Z}) for q in range(n - 1)]
    assert g.dim == n * (2 * n - 1) == matrix_closure_dim(generators)
    # so(6) ≅ su(4): both names fit (dimension 15, rank 3).
    assert [i.kind for i in g.ideals] in ([f"so({2 * n})"], ["su(4)"] if n == 3 else None)
    assert g.center_dim == 0 and not g.full
    # Jordan–Wigner (c_2i = X…X Z_i, c_2i+1 = X…X Y_i): the Z-only words of so(2n) are the n−1
    # Z_i Z_{i+1}, each with ⟨0…0|P|0…0⟩ = 1, so P_g(ρ) = (n−1)/2^n; O = Z0 Z1 ∈ g: P_g(O) = 2^n.
    assert g.purity_state == pytest.approx((n - 1) / 2 ** n)
    assert g.purity_observable == pytest.approx(2 ** n) and g.observable_in_algebra


def test_random_pauli_recognised_as_su_without_enumerating():
    g = dla(qg.quantum.circuit("random_pauli", n_qubits=6, n_layers=8))
    assert g.full and g.dim == 4 ** 6 - 1
    enumerated = int(g.notes[0].split("after ")[1].split()[0])
    assert enumerated <= 4 * 2 ** 6 + 1  # of 4095


def test_random_pauli_3_qubits_matches_matrix_closure():
    """One draw of the gate axes, read here from the sample itself and closed with matrices."""
    import torch

    n, n_layers = 3, 4
    model = qg.quantum.circuit("random_pauli", n_qubits=n, n_layers=n_layers)
    codes = model.sample_params(torch.Generator().manual_seed(0), 1)[0, n * n_layers:].long().tolist()
    ry = np.cos(np.pi / 8) * I2 - 1j * np.sin(np.pi / 8) * Y
    cz = [np.diag([1.0 if not (b >> (n - 1 - q) & 1 and b >> (n - 2 - q) & 1) else -1.0 for b in range(2 ** n)])
          for q in range(n - 1)]
    layers = [[("fixed", on(n, {q: ry})) for q in range(n)]] + [
        [("rot", on(n, {q: (X, Y, Z)[codes[k * n + q]]}) / 2) for q in range(n)] + [("fixed", m) for m in cz]
        for k in range(n_layers)]
    expected = matrix_closure_dim(heisenberg_generators(n, layers))
    assert dla(model).dim == expected


def test_max_dim_stops_with_a_clear_message():
    with pytest.raises(ValueError, match="max_dim=10"):
        dla(free_fermion(4, 2), max_dim=10)
    with pytest.raises(ValueError, match="max_dim"):
        dla(free_fermion(4, 2), max_dim=0)


def test_non_circuit_is_refused():
    with pytest.raises(TypeError, match="circuit model"):
        dla(qg.classical.mlp(depth=2, width=4))


def test_tensor_split_is_not_mistaken_for_su():
    """su(8) on qubits 0-2 and su(2) on qubit 3: irreducible and without an invariant form, but the
    generators split into commuting sets; the closure must not stop early (dim 63 + 3 = 66)."""
    n, n_layers = 4, 3

    def layer(angles, wires):
        for q in range(n):
            qml.RY(angles[q], wires=wires[q])
            qml.RZ(angles[n + q], wires=wires[q])
        qml.CNOT(wires=[wires[0], wires[1]])
        qml.CNOT(wires=[wires[1], wires[2]])

    model = qg.quantum.circuit(layer, n_qubits=n, n_layers=n_layers, angles_per_layer=2 * n, cost="zz")
    layers = [[("rot", on(n, {q: Y}) / 2) for q in range(n)] + [("rot", on(n, {q: Z}) / 2) for q in range(n)]
              + [("fixed", cnot(n, 0, 1)), ("fixed", cnot(n, 1, 2))]] * n_layers
    g = dla(model)
    assert g.dim == 66 == matrix_closure_dim(heisenberg_generators(n, layers))
    assert not g.full and sorted(i.kind for i in g.ideals) == ["su(2)", "su(8)"]
