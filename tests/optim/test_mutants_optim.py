"""Optimizers and metrics: the checks mutation testing asked for (defaults against closed forms)."""
import torch
from optim_toys import Quadratic

from qcgrad.optim.adam import Adam
from qcgrad.optim.metric import fisher_metric
from qcgrad.optim.optimizers import make_optimizer, optimizer_options
from qcgrad.optim.training import train


def test_adam_default_learning_rate_is_torchs_1e_minus_3():
    # First Adam step is −lr·g/(|g| + ε) entrywise (m̂ = g, v̂ = g²), with torch's default lr = 1e-3.
    p = torch.zeros(1, 2, dtype=torch.float64, requires_grad=True)
    opt = Adam([p])
    p.grad = torch.tensor([[2.0, -0.5]], dtype=torch.float64)
    opt.step()
    expected = -1e-3 * p.grad / (p.grad.abs() + 1e-8)
    torch.testing.assert_close(p.detach(), expected, rtol=1e-12, atol=0)


class _Linear:
    """Outputs X θ on a fixed batch and nothing else: no ``likelihood``, no ``noise_var``."""

    def __init__(self, x: torch.Tensor) -> None:
        self.x = x

    def forward(self, theta: torch.Tensor) -> torch.Tensor:
        return (self.x @ theta)[:, None]


def test_fisher_defaults_to_a_unit_variance_gaussian_and_scales_with_noise_var():
    # Gaussian outputs X θ with variance σ²: F = XᵀX/(B σ²) exactly; σ² = 1 when the model sets none.
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    model = _Linear(x)
    theta = torch.zeros(2, 3, dtype=torch.float64)
    torch.testing.assert_close(fisher_metric(model, theta), (x.T @ x / 5).expand(2, 3, 3), rtol=1e-12, atol=1e-14)
    model.noise_var = 4.0
    torch.testing.assert_close(fisher_metric(model, theta), (x.T @ x / 20).expand(2, 3, 3), rtol=1e-12, atol=1e-14)


def test_sgd_on_torchs_foreach_path_takes_the_plain_gradient_step():
    # foreach=True replaces the default fused kernel (torch refuses both at once); the step is θ − lr·g.
    p = torch.tensor([[1.0, -2.0]], dtype=torch.float64, requires_grad=True)
    opt = make_optimizer("sgd", p, Quadratic(torch.ones(1)), lr=0.1, foreach=True)
    p.grad = torch.tensor([[0.5, 4.0]], dtype=torch.float64)
    opt.step()
    torch.testing.assert_close(p.detach(), torch.tensor([[0.95, -2.4]], dtype=torch.float64), rtol=1e-15, atol=0)


def test_optimizer_options_list_the_knobs_but_not_lr():
    # lr is train's own argument; the torch optimizers' other keywords are the options.
    options = optimizer_options("momentum")
    assert "lr" not in options and {"momentum", "nesterov", "weight_decay"} <= set(options)


def test_train_records_its_dtype_by_name():
    result = train(Quadratic(torch.ones(2, dtype=torch.float64)), "sgd", steps=1, n_runs=1, dtype=torch.float64)
    assert result.config["dtype"] == "float64"


def test_train_uses_adam_by_default():
    # The default optimizer is Adam: the first step of every entry is −lr·g/(|g| + ε) = −lr·sign(g).
    model = Quadratic(torch.ones(2, dtype=torch.float64))
    init = torch.tensor([[1.0, -3.0, 0.5]], dtype=torch.float64)
    result = train(model, steps=1, n_runs=1, lr=0.01, init=init, dtype=torch.float64)
    assert result.config["optimizer"] == "adam"
    torch.testing.assert_close(result.params[0, :2], torch.tensor([0.99, -2.99], dtype=torch.float64),
                               rtol=0, atol=1e-9)


def test_train_clips_each_gradient_entry_to_clip_value():
    # Quadratic with c = 1: g = θ = (4, −0.2); clamped to ±0.5 → (0.5, −0.2); one SGD step at lr 1 gives (3.5, 0).
    model = Quadratic(torch.ones(2, dtype=torch.float64))
    init = torch.tensor([[4.0, -0.2, 0.0]], dtype=torch.float64)
    result = train(model, "sgd", steps=1, n_runs=1, lr=1.0, init=init, clip_value=0.5, dtype=torch.float64)
    torch.testing.assert_close(result.params[0, :2], torch.tensor([3.5, 0.0], dtype=torch.float64),
                               rtol=0, atol=1e-12)
