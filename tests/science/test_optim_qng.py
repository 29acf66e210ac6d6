import math

import pytest
import torch
from optim_toys import TorchCircuit, pennylane_metric_tensor, tfim

import qcgrad as qg
from qcgrad.optim import make_optimizer, train


def test_qng_step_on_rx_ry_uses_closed_form_metric():
    # RX(a) then RY(b) on |0⟩: g = diag(¼Var(X), ¼Var(Y)) = diag(1/4, cos²a/4), off-diagonal 0
    model = TorchCircuit(1, [[("RX", 0)], [("RY", 0)]], tfim(1), entangle=False)
    theta = torch.tensor([[0.4, 1.0], [1.2, -0.3]], dtype=torch.float64, requires_grad=True)
    before = theta.detach().clone()
    grad = model.grad(before)
    opt = make_optimizer("qng", theta, model, lr=0.1, damping=0.0, approx="full")
    theta.grad = grad
    opt.step()
    inv = torch.stack([torch.full_like(before[:, 0], 4.0), 4 / torch.cos(before[:, 0]) ** 2], 1)
    assert torch.allclose(theta.detach(), before - 0.1 * inv * grad, rtol=0, atol=1e-12)


@pytest.mark.slow
def test_qng_reaches_target_energy_in_fewer_steps_than_gradient_descent():
    n = 4
    h = tfim(n)
    e0 = torch.linalg.eigvalsh(h)[0].item()
    model = TorchCircuit(n, [[("RY", w) for w in range(n)] for _ in range(3)], h)
    init = 0.1 * torch.randn(4, model.n_params, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    target = e0 + 0.3
    gd = train(model, "sgd", steps=40, n_runs=4, init=init, lr=0.05).steps_to(target)
    qng = train(model, "qng", steps=40, n_runs=4, init=init, lr=0.05).steps_to(target)
    assert (qng >= 0).all()
    assert ((gd == -1) | (qng < gd)).all()  # every run: QNG hits the target first at the same lr
    assert math.isfinite(e0)


def test_qng_step_on_random_pauli_circuit_uses_pennylane_metric_tensor():
    # θ ← θ − lr (G + λI)⁻¹ g on the trainable angles, G from qml.metric_tensor of the same
    # qfunc; the frozen gate codes never move
    qc = qg.quantum.circuit("random_pauli", n_qubits=3, n_layers=2, cost="zz")
    before = qc.sample_params(torch.Generator().manual_seed(2), 2)
    theta = before.clone().requires_grad_(True)
    grad = qc.grad(before)
    opt = make_optimizer("qng", theta, qc, lr=0.1, damping=1e-2, approx="full")
    theta.grad = grad
    opt.step()
    idx = qc.trainable.nonzero()[:, 0]
    for row in range(2):
        g_pl = pennylane_metric_tensor(qc, before[row])
        g_pl = g_pl[idx][:, idx] + 1e-2 * torch.eye(len(idx), dtype=torch.float64)
        expected = before[row].clone()
        expected[idx] -= 0.1 * torch.linalg.solve(g_pl, grad[row, idx])
        assert torch.allclose(theta.detach()[row], expected, rtol=0, atol=1e-10)
