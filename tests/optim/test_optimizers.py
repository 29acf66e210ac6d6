import pytest
import torch

from optim_toys import LinearGaussian, Quadratic, TorchCircuit, tfim
from qcgrad.optim.metric import fisher_metric
from qcgrad.optim.optimizers import ELEMENTWISE, OPTIMIZERS, MetricDescent, make_optimizer


def test_registry_names():
    assert set(OPTIMIZERS) == {"sgd", "momentum", "nesterov", "adam", "rmsprop", "adagrad",
                               "natural_gradient", "qng"}
    assert set(ELEMENTWISE) <= set(OPTIMIZERS)


def test_natural_gradient_step_is_inverse_fisher_times_gradient():
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(6, 3, generator=gen, dtype=torch.float64)
    model = LinearGaussian(x, torch.randn(6, generator=gen, dtype=torch.float64))
    theta = torch.randn(2, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    opt = make_optimizer("natural_gradient", theta, model, lr=0.5, damping=0.0)
    before = theta.detach().clone()
    theta.grad = model.grad(before)
    opt.step()
    fisher = x.T @ x / 6  # Gaussian, unit noise: F = JᵀJ/B with J = X
    expected = before - 0.5 * torch.linalg.solve(fisher, theta.grad.T).T
    assert torch.allclose(theta.detach(), expected, rtol=0, atol=1e-12)


def test_metric_descent_skips_masked_entries_and_damps():
    theta = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64, requires_grad=True)
    metric = lambda p: torch.diag_embed(torch.tensor([[2.0, 0.0, 4.0]], dtype=torch.float64))  # noqa: E731
    mask = torch.tensor([True, True, False])
    opt = MetricDescent([theta], metric, mask, lr=1.0, damping=1.0)
    theta.grad = torch.tensor([[3.0, 1.0, 5.0]], dtype=torch.float64)
    opt.step()
    # (G + I)⁻¹ g on the trainable entries: 3/3 and 1/1; the masked entry never moves
    assert theta.detach().tolist() == [[0.0, 1.0, 3.0]]


def test_qng_rejects_a_classical_model_and_natural_gradient_a_circuit():
    quad = Quadratic(torch.ones(2, dtype=torch.float64))
    with pytest.raises(TypeError, match="natural_gradient"):
        make_optimizer("qng", torch.zeros(1, 3, requires_grad=True), quad, lr=0.1)
    circ = TorchCircuit(1, [[("RX", 0)]], tfim(1))
    with pytest.raises(TypeError, match="qng"):
        fisher_metric(circ, torch.zeros(1, 1))


@pytest.mark.parametrize("name,lr,err", [("lbfgs", 0.1, "adam"), ("adam", 0.0, "lr")])
def test_make_optimizer_rejects_bad_input(name, lr, err):
    with pytest.raises(ValueError, match=err):
        make_optimizer(name, torch.zeros(1, 2, requires_grad=True), Quadratic(torch.ones(1)), lr=lr)
