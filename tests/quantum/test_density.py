"""Batched density-matrix mode against PennyLane's default.mixed (independent simulator)."""
import math

import pennylane as qml
import pytest
import torch
from same_name_gates import same_name_gates, same_name_reference

from qcgrad.quantum import circuit, density, engine

WIRES = [0, 1, 2]


def mixed_qfunc(params, wires):
    """Gates of every kind the mode handles (builders, generic parametric, fixed, 2-3 qubit,
    fused diagonals, a template that decomposes) interleaved with both channels. (Not IsingZZ: default.mixed
    computes it to only ~1e-8 here, while this mode matches default.qubit to 1e-16.)"""
    qml.RY(math.pi / 4, wires=0)
    qml.Rot(params[..., 0], params[..., 1], params[..., 2], wires=1)
    qml.CNOT(wires=[0, 2])
    qml.DepolarizingChannel(0.1, wires=0)
    qml.CRX(params[..., 3], wires=[2, 0])
    qml.AmplitudeDamping(0.3, wires=2)
    qml.Toffoli(wires=[1, 0, 2])
    qml.CZ(wires=[0, 1])
    qml.S(wires=1)
    qml.RY(params[..., 0], wires=1)
    qml.RX(params[..., 4], wires=2)
    qml.BasicEntanglerLayers(params[..., None, 5:8], wires=wires)
    qml.DepolarizingChannel(0.05, wires=1)


def reference_rho(params):
    dev = qml.device("default.mixed", wires=WIRES)

    @qml.qnode(dev, interface="torch")
    def node(p):
        mixed_qfunc(p, WIRES)
        return qml.density_matrix(WIRES)

    return torch.stack([torch.as_tensor(node(row)) for row in params])


def test_matches_default_mixed_to_1e_10():
    params = torch.rand(3, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 2 * math.pi
    with qml.queuing.AnnotatedQueue() as q:
        mixed_qfunc(params, WIRES)
    rho = density.simulate(q.queue, WIRES, batch=3)
    assert torch.allclose(rho, reference_rho(params).to(rho.dtype), atol=1e-10, rtol=0)
    # Trace one and Hermitian: the channels are trace preserving.
    assert torch.allclose(torch.diagonal(rho, dim1=1, dim2=2).sum(-1).real, torch.ones(3, dtype=torch.float64))
    assert torch.allclose(rho, rho.mH, atol=1e-12)


def test_pure_circuit_is_outer_product_of_engine_state():
    params = torch.rand(4, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float64)

    def pure(p, wires):
        qml.Rot(p[..., 0], p[..., 1], p[..., 2], wires=0)
        qml.CZ(wires=[0, 1])
        qml.RX(p[..., 3], wires=2)
        qml.CNOT(wires=[2, 0])

    with qml.queuing.AnnotatedQueue() as q:
        pure(params, WIRES)
    psi = engine.simulate(q.queue, WIRES, batch=4)
    rho = density.simulate(q.queue, WIRES, batch=4)
    assert torch.allclose(rho, psi[:, :, None] * psi[:, None, :].conj(), atol=1e-12)


@pytest.mark.parametrize("noise", ["depolarizing:0.1", "amplitude_damping:0.2"])
def test_noisy_model_cost_and_grad_match_default_mixed(noise):
    # tensor_product is one layer by definition, so noise placement needs no layer marks.
    params = torch.rand(3, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64) * 2 * math.pi
    fast = circuit("tensor_product", 3, cost="local", noise=noise)
    ref = circuit("tensor_product", 3, cost="local", noise=noise, device="default.mixed")
    assert torch.allclose(fast.cost(params), ref.cost(params), atol=1e-10, rtol=0)
    assert torch.allclose(fast.grad(params), ref.grad(params), atol=1e-10, rtol=0)


def test_noise_after_every_layer_matches_default_mixed():
    # random_pauli ends each layer with a Barrier; the channel follows every one of them.
    kw = dict(ansatz="random_pauli", n_qubits=2, n_layers=2, cost="zz", noise="amplitude_damping:0.15")
    fast, ref = circuit(**kw), circuit(**kw, device="default.mixed")
    params = fast.sample_params(torch.Generator().manual_seed(3), 3)
    assert torch.allclose(fast.cost(params), ref.cost(params), atol=1e-10, rtol=0)
    assert torch.allclose(fast.grad(params), ref.grad(params), atol=1e-10, rtol=0)


def test_expectation_and_probabilities():
    rho = torch.diag(torch.tensor([0.5, 0.25, 0.25, 0.0], dtype=torch.complex128))[None]
    zz = torch.diag(torch.tensor([1.0, -1.0, -1.0, 1.0], dtype=torch.float64))
    assert density.expectation(rho, zz).tolist() == [0.0]
    assert density.probabilities(rho).tolist() == [[0.5, 0.25, 0.25, 0.0]]


def test_gates_of_one_name_with_different_matrices():
    with qml.queuing.AnnotatedQueue() as q:
        same_name_gates([0, 1, 2])
    psi = same_name_reference([0, 1, 2])
    rho = density.simulate(q.queue, [0, 1, 2], batch=1)[0]
    torch.testing.assert_close(rho, torch.outer(psi, psi.conj()), atol=1e-10, rtol=0)


def test_unknown_wire_is_named():
    with pytest.raises(ValueError, match="wire 5.*circuit wires are \\[0, 1\\]"):
        density.simulate([qml.PauliX(5)], [0, 1], batch=1)
