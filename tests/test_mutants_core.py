"""Statistics, labels and optimizer checks that mutation testing asked for (each against a closed form)."""
import warnings

import pytest
import torch

import qcgrad as qg
from qcgrad.gradients import params_label
from qcgrad.optim.adam import Adam
from qcgrad.optim.optimizers import MetricDescent
from qcgrad.optim.training import train


def test_rel_err_draws_about_the_samples_its_target_needs():
    # RX(θ)|0⟩, local cost: ∂C ∝ sin θ with θ uniform, kurtosis κ = E[sin⁴]/E[sin²]² = (3/8)/(1/4) = 1.5.
    # SE/Var ≈ sqrt((κ−1)/S), so rel_err = 0.05 needs S ≈ 1.2·(κ−1)/0.05² + 1 = 241 (20 % headroom).
    # κ estimated from the first 100 samples is 1.5 ± 0.1 here, so S lands in [150, 400]; a target that
    # divided by (κ−1) instead would ask for ~960.
    model = qg.quantum.circuit("tensor_product", n_qubits=1, cost="local")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = qg.gradient_variance(model, n_samples=100, rel_err=0.05, seed=0)
    assert 150 <= est.n_samples <= 400 and est.rel_err <= 0.05


@pytest.mark.parametrize("spec,label", [
    ("first", "first"), (3, 3), ("layer:0", "layer:0"), (True, "True"),
    (slice(2, 6), "2:6"), (slice(None, 8), ":8"), (slice(1, None, 2), "1::2"),
])
def test_params_labels_for_records(spec, label):
    # Strings and indices are kept; a slice is written as Python writes it; a bool is not an index.
    assert params_label(spec) == label


def test_adam_accepts_beta1_zero_and_then_steps_by_the_current_gradient():
    # β₁ = 0 is allowed ([0, 1)): m̂ₜ = gₜ. With β₂ = 1/2, ε = 0: step 1 is −lr·g₁/|g₁|; step 2 is
    # −lr·g₂/sqrt(v̂₂) with v₂ = β₂(1−β₂)g₁² + (1−β₂)g₂² and v̂₂ = v₂/(1−β₂²) = 2 for g = (2, 1).
    p = torch.zeros(1, 1, dtype=torch.float64, requires_grad=True)
    opt = Adam([p], lr=0.1, betas=(0.0, 0.5), eps=0.0)
    p.grad = torch.tensor([[2.0]], dtype=torch.float64)
    opt.step()
    assert p.item() == pytest.approx(-0.1, rel=1e-12)
    p.grad = torch.tensor([[1.0]], dtype=torch.float64)
    opt.step()
    v_hat = (0.5 * 0.5 * 4.0 + 0.5 * 1.0) / (1 - 0.5**2)
    assert p.item() == pytest.approx(-0.1 - 0.1 * 1.0 / v_hat**0.5, rel=1e-12)
    with pytest.raises(ValueError, match=r"betas=\(0\.9, 1\.0\) must be two floats in \[0, 1\)"):
        Adam([p], betas=(0.9, 1.0))


def test_metric_descent_refuses_negative_damping_naming_it():
    with pytest.raises(ValueError, match=r"damping=-0\.5 must be >= 0"):
        MetricDescent([torch.zeros(1, 2, requires_grad=True)], lambda p: torch.eye(2)[None],
                      torch.ones(2, dtype=torch.bool), damping=-0.5)


def test_train_records_its_schedule_and_clipping():
    net = qg.classical.mlp(depth=1, width=2)
    result = train(net, "sgd", steps=2, n_runs=1, schedule="cosine", clip_norm=1.0)
    assert result.config["schedule"] == "cosine" and result.config["clip_norm"] == 1.0
    assert result.config["clip_value"] is None

