"""The engine on gates and circuits beyond the built-in ansätze, against PennyLane."""
import pennylane as qml
import pytest
import torch

from qcgrad.quantum import engine

TOL = 1e-10


def _generic(params, wires):
    # Non-adjacent and reversed two-qubit gates, a three-qubit gate, a fixed unitary, a
    # parameter used twice with a minus sign and a generic parametrised two-qubit gate.
    qml.Hadamard(wires[0])
    qml.RX(params[..., 0], wires=wires[1])
    qml.CNOT(wires=[wires[3], wires[0]])
    qml.CRX(params[..., 1], wires=[wires[2], wires[0]])
    qml.Toffoli(wires=[wires[0], wires[1], wires[3]])
    qml.QubitUnitary(qml.matrix(qml.SX(0)), wires=wires[2])
    qml.RZ(-params[..., 0], wires=wires[3])
    qml.IsingXX(params[..., 2], wires=[wires[1], wires[3]])
    qml.PhaseShift(params[..., 1] * 0.5, wires=wires[2])
    qml.StronglyEntanglingLayers(params[..., 3:9].reshape(params.shape[:-1] + (1, 2, 3)), wires=wires[:2])


def _record(params, wires):
    with qml.queuing.AnnotatedQueue() as q:
        _generic(params, wires)
    return list(q.queue)


WIRES = ["a", "b", "c", "d"]
DIAG = torch.linspace(-1, 1, 16, dtype=torch.float64)  # a generic real diagonal observable


def _reference(row):
    dev = qml.device("default.qubit", wires=WIRES)

    @qml.qnode(dev, interface="torch", diff_method="backprop")
    def state(p):
        _generic(p, WIRES)
        return qml.state()

    p = row.clone().requires_grad_(True)
    psi = state(p)
    cost = (psi.abs() ** 2 @ DIAG)
    (g,) = torch.autograd.grad(cost, p)
    return psi.detach(), cost.detach(), g


def test_generic_circuit_state_cost_and_adjoint_gradient():
    params = torch.rand(3, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 6
    state = engine.simulate(_record(params, WIRES), WIRES, 3)
    p = params.clone().requires_grad_(True)
    cost, grad = engine.adjoint_gradient(_record(p, WIRES), WIRES, 3, DIAG, p)
    for s in range(3):
        psi, c, g = _reference(params[s])
        torch.testing.assert_close(state[s], psi, atol=TOL, rtol=0)
        torch.testing.assert_close(cost[s], c, atol=TOL, rtol=0)
        torch.testing.assert_close(grad[s], g, atol=TOL, rtol=0)


def test_segments_do_not_change_results(monkeypatch):
    params = torch.rand(2, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 6
    p = params.clone().requires_grad_(True)
    cost, grad = engine.adjoint_gradient(_record(p, WIRES), WIRES, 2, DIAG, p)
    monkeypatch.setattr(engine, "SEGMENT", 3)
    monkeypatch.setattr(engine, "BLOCK_WIRES", 1)
    cost3, grad3 = engine.adjoint_gradient(_record(p, WIRES), WIRES, 2, DIAG, p)
    torch.testing.assert_close(cost3, cost, atol=TOL, rtol=0)
    torch.testing.assert_close(grad3, grad, atol=TOL, rtol=0)


@pytest.mark.parametrize("name", sorted(engine.BUILDERS))
def test_builders_equal_pennylane_matrices(name):
    op_type = getattr(qml, name)
    t = torch.tensor([0.3, -1.7, 4.0], dtype=torch.float64)
    args = [t * (k + 1) for k in range(op_type.num_params)]
    torch.testing.assert_close(engine.BUILDERS[name](*args, torch.complex128),
                               torch.as_tensor(op_type.compute_matrix(*args)).to(torch.complex128), atol=1e-14, rtol=0)


def test_bad_dtype_and_mode():
    with pytest.raises(TypeError, match="dtype=torch.float16.*float64"):
        engine.simulate([qml.PauliX(0)], [0], 1, dtype=torch.float16)
    with pytest.raises(ValueError, match="mode='both'.*adjoint"):
        engine.chunk_size(4, "both")
    with pytest.raises(ValueError, match="wire 'z'"):
        engine.simulate([qml.PauliX("z")], [0], 1)
