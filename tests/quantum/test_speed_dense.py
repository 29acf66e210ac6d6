"""All-partials fast path: compiled programs kept per model, dense layer steps on a few qubits.

Truth: PennyLane's default.qubit (backprop through its own simulator), per sample, to 1e-10.
"""
from __future__ import annotations

import pennylane as qml
import pytest
import torch

import qcgrad as qg
from qcgrad.quantum import dense_layers, engine

TOL = 1e-10


def _reference(name: str, n: int, layers: int, cost: str, params: torch.Tensor, **kw) -> torch.Tensor:
    return qg.quantum.circuit(name, n, layers, cost=cost, device="default.qubit", **kw).grad(params)


@pytest.fixture
def dense_calls(monkeypatch):
    """How many gradients ran through the dense steps."""
    calls = []
    adjoint = dense_layers.adjoint

    def spy(*args, **kwargs):
        calls.append(1)
        return adjoint(*args, **kwargs)

    monkeypatch.setattr(dense_layers, "adjoint", spy)
    return calls


@pytest.mark.parametrize(("name", "n", "cost"), [
    ("random_pauli", 2, "zz"),           # blocks of one wire, diagonal tails (CZ)
    ("random_pauli", 3, "tfim"),         # blocks of two wires, a Pauli-sum observable
    ("hardware_efficient", 3, "global"),  # two single-qubit gates per wire: two steps per layer, CNOT tails
    ("strongly_entangling", 5, "zz"),    # Rot (three parameters), blocks of three wires
    ("alternating_layered", 4, "local"),
    ("tensor_product", 6, "global"),
])
def test_dense_steps_match_default_qubit(name, n, cost, dense_calls):
    model = qg.quantum.circuit(name, n, 3, cost=cost, lightcone=False)
    params = model.sample_params(torch.Generator().manual_seed(n), 3)
    torch.testing.assert_close(model.grad(params), _reference(name, n, 3, cost, params), atol=TOL, rtol=0)
    assert dense_calls == [1]


def test_a_kept_program_holds_the_layout_not_the_draws():
    # random_pauli draws every gate's axis per sample: a second batch of the same shape reuses the
    # compiled program, which must read the new axes (and angles), not the first batch's.
    model = qg.quantum.circuit("random_pauli", 3, 4, cost="zz", lightcone=False)
    first = model.sample_params(torch.Generator().manual_seed(0), 4)
    second = model.sample_params(torch.Generator().manual_seed(1), 4)
    assert not torch.equal(first[:, 12:], second[:, 12:])
    model.grad(first)
    assert len(model._nodes["programs"]) == 1
    torch.testing.assert_close(model.grad(second), _reference("random_pauli", 3, 4, "zz", second), atol=TOL, rtol=0)
    assert len(model._nodes["programs"]) == 1


def test_programs_are_kept_per_batch_size_and_dtype():
    model = qg.quantum.circuit("hardware_efficient", 2, 2, cost="zz", lightcone=False)
    small, large = (model.sample_params(torch.Generator().manual_seed(s), s) for s in (2, 5))
    for params in (small, large, small):
        torch.testing.assert_close(model.grad(params), _reference("hardware_efficient", 2, 2, "zz", params),
                                   atol=TOL, rtol=0)
    assert len(model._nodes["programs"]) == 2
    single = qg.quantum.circuit("hardware_efficient", 2, 2, cost="zz", lightcone=False, dtype=torch.float32)
    # complex64: rounding of ~1e-7 per gate, a few dozen gates.
    torch.testing.assert_close(single.grad(large), _reference("hardware_efficient", 2, 2, "zz", large),
                               atol=1e-5, rtol=0)


def test_frozen_structure_gets_zero_and_angles_match():
    model = qg.quantum.circuit("random_pauli", 2, 3, cost="zz", lightcone=False)
    params = model.sample_params(torch.Generator().manual_seed(3), 3)
    grad = model.grad(params)
    assert torch.equal(grad[:, model.param_groups["gates"]], torch.zeros(3, 6, dtype=torch.float64))


def test_identity_block_init_is_not_kept_and_stays_exact(dense_calls):
    # Inverted layers negate their angles: computed parameters, so the recording is not reusable.
    model = qg.quantum.circuit("random_pauli", 3, 4, cost="zz", init="identity_block", lightcone=False)
    params = model.sample_params(torch.Generator().manual_seed(0), 3)
    torch.testing.assert_close(model.grad(params), _reference("random_pauli", 3, 4, "zz", params,
                                                              init="identity_block"), atol=TOL, rtol=0)
    assert model._nodes["programs"] == {} and dense_calls == []


def test_user_circuit_computing_from_its_structure_is_recorded_anew():
    # Detached arithmetic on the structure cannot be told apart from a constant by the engine; the
    # user circuit's own replay check (rebind) refuses it, and so the model keeps no program.
    def layer(angles, structure, wires):
        qml.RY(angles[0], wires=wires[0])
        qml.RX(structure[0] * 2.0, wires=wires[1])
        qml.CZ(wires=wires[:2])

    def draw(gen, s):
        return torch.rand(s, 2, 1, generator=gen, dtype=torch.float64)

    model = qg.quantum.circuit(layer, 2, 2, angles_per_layer=1, structure=draw, cost="zz", lightcone=False)
    assert not model.ansatz.rebind
    for seed in (0, 1):
        params = model.sample_params(torch.Generator().manual_seed(seed), 3)
        grad = model.grad(params)
        ref = qg.quantum.circuit(layer, 2, 2, angles_per_layer=1, structure=draw, cost="zz",
                                 device="default.qubit").grad(params)
        torch.testing.assert_close(grad, ref, atol=TOL, rtol=0)
    assert model._nodes["programs"] == {}


def test_segments_do_not_change_results(monkeypatch):
    model = qg.quantum.circuit("random_pauli", 3, 6, cost="zz", lightcone=False)
    params = model.sample_params(torch.Generator().manual_seed(2), 3)
    whole = model.grad(params)
    monkeypatch.setattr(dense_layers, "SEGMENT_BYTES", 1)  # one step per segment
    again = qg.quantum.circuit("random_pauli", 3, 6, cost="zz", lightcone=False).grad(params)
    torch.testing.assert_close(again, whole, atol=TOL, rtol=0)
    torch.testing.assert_close(again, _reference("random_pauli", 3, 6, "zz", params), atol=TOL, rtol=0)


def test_circuits_the_dense_steps_do_not_fit_use_the_engine():
    # IsingZZ (hva) has a parameter but is not a single-qubit builder; 7 qubits: above DENSE_QUBITS.
    model = qg.quantum.circuit("hva", 3, 2, cost="tfim", lightcone=False)
    program = engine.compile_ops(model._record(model.sample_params(torch.Generator(), 2)), model.wires, 2)
    assert dense_layers.schedule(program, None) is None
    wide = qg.quantum.circuit("random_pauli", dense_layers.DENSE_QUBITS + 1, 1, cost="zz", lightcone=False)
    params = wide.sample_params(torch.Generator(), 2)
    program = engine.compile_ops(wide._record(params), wide.wires, 2, source=params)
    assert dense_layers.schedule(program, None) is None


def test_partial_traces_of_a_product_are_its_factors():
    # M = A ⊗ B ⊗ C with tr B = tr C = 1 etc.: the reduced matrix of wire 0 is A tr(B) tr(C).
    gen = torch.Generator().manual_seed(0)
    a, b, c = (torch.randn(2, 2, 2, generator=gen, dtype=torch.float64)[0] * 1j
               + torch.randn(2, 2, generator=gen, dtype=torch.float64) for _ in range(3))
    m = torch.kron(torch.kron(a, b), c)
    out = (m.reshape(1, 64) @ dense_layers._traces(3, torch.complex128, None)).view(3, 2, 2)
    tr = [x.trace() for x in (a, b, c)]
    torch.testing.assert_close(out[0], a * tr[1] * tr[2])
    torch.testing.assert_close(out[1], b * tr[0] * tr[2])
    torch.testing.assert_close(out[2], c * tr[0] * tr[1])


def test_a_program_of_another_layout_is_refused():
    model = qg.quantum.circuit("random_pauli", 2, 1, cost="zz", lightcone=False)
    params = model.sample_params(torch.Generator(), 3).requires_grad_(True)
    program = engine.compile_ops(model._record(params), model.wires, 3, source=params)
    other = model.sample_params(torch.Generator(), 4).requires_grad_(True)
    with pytest.raises(ValueError, match="compiled for 2 qubits, batch 3"):
        engine.adjoint_gradient(program, model.wires, 4, model.diagonal, other)
