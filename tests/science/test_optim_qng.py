import math

import pytest
import torch

from optim_toys import TorchCircuit, tfim
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
