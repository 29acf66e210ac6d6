import pytest
import torch
from optim_toys import LinearGaussian, Quadratic, TorchCircuit, tfim

import qcgrad as qg
from qcgrad.optim import OPTIMIZERS, train
from qcgrad.optim.optimizers import ELEMENTWISE
from qcgrad.optim.training import _finite_rows

C = torch.tensor([1.0, 0.5, 2.0, 0.1], dtype=torch.float64)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_batched_runs_equal_a_loop_of_single_runs_exactly(name):
    model = Quadratic(C)
    batched = train(model, name, steps=15, n_runs=5, seed=2, lr=0.05)
    for r in range(5):
        single = train(model, name, steps=15, n_runs=1, lr=0.05, init=batched.initial_params[r:r + 1])
        assert torch.equal(single.params[0], batched.params[r])
        assert torch.equal(single.loss[:, 0], batched.loss[:, r])


@pytest.mark.parametrize("name", ["sgd", "nesterov", "adam", "adagrad"])
def test_frozen_group_never_changes_and_loss_decreases(name):
    res = train(Quadratic(C), name, steps=30, n_runs=4, seed=0, lr=0.1, schedule="cosine")
    assert torch.equal(res.params[:, -1], res.initial_params[:, -1])
    assert (res.loss[-1] < res.loss[0]).all()


def test_curves_shapes_and_group_norms():
    res = train(Quadratic(C), "momentum", steps=7, n_runs=3, seed=1, lr=0.1)
    assert res.loss.shape == (8, 3) and res.grad_norm.shape == (7, 3)
    assert list(res.group_grad_norm) == ["w"]  # the frozen group is not reported
    # first gradient is c²θ, known in closed form
    expected = torch.linalg.vector_norm(C**2 * res.initial_params[:, :-1], dim=1)
    assert torch.allclose(res.grad_norm[0], expected, rtol=1e-12)
    assert torch.allclose(res.group_grad_norm["w"], res.grad_norm)
    assert res.config["optimizer"] == "momentum" and res.config["model"]["family"] == "toy"


def test_group_norms_of_a_multi_layer_net_match_per_layer_gradient_norms():
    net = qg.classical.mlp(depth=3, width=4)
    res = train(net, "sgd", steps=1, n_runs=3, seed=4, lr=0.1)
    g = net.grad(res.initial_params)
    for name, sl in net.param_groups.items():
        assert torch.allclose(res.group_grad_norm[name][0], torch.linalg.vector_norm(g[:, sl], dim=1), rtol=1e-12)
    assert torch.allclose(res.grad_norm[0], torch.linalg.vector_norm(g, dim=1), rtol=1e-12)


def test_same_seed_same_runs_and_init_stream():
    a = train(Quadratic(C), "adam", steps=3, n_runs=2, seed=5)
    b = train(Quadratic(C), "adam", steps=3, n_runs=2, seed=5)
    assert torch.equal(a.params, b.params)


def test_clip_norm_bounds_each_run_step_under_sgd():
    res = train(Quadratic(C), "sgd", steps=1, n_runs=4, seed=0, lr=1.0, clip_norm=1e-3)
    step = torch.linalg.vector_norm(res.params - res.initial_params, dim=1)
    assert torch.allclose(step, torch.full((4,), 1e-3, dtype=torch.float64), rtol=1e-12)


def test_float16_gradient_underflows_without_loss_scaling_and_survives_with_it():
    # c = 1e-4: the backward pass multiplies by c twice, giving c²θ ≈ 1e-8 < 6e-8, the smallest
    # float16 subnormal, so it flushes to 0; scaled by 2^15 it is ≈ 3.3e-4, well inside range.
    model = Quadratic(torch.tensor([1e-4, 1e-4], dtype=torch.float64))
    init = torch.tensor([[1.0, -2.0, 0.0]], dtype=torch.float32)
    plain = train(model, "sgd", steps=1, n_runs=1, init=init, dtype=torch.float16)
    assert plain.grad_norm.item() == 0.0
    scaled = train(model, "sgd", steps=1, n_runs=1, init=init, dtype=torch.float16, loss_scale=2.0**15)
    exact = 1e-8 * torch.linalg.vector_norm(init[0, :2].double())
    # float16 keeps 11 significant bits: three roundings give at most ~3·2^-11 ≈ 1.5e-3 relative error
    assert scaled.grad_norm.item() == pytest.approx(exact.item(), rel=2e-3)


def test_dynamic_loss_scale_skips_only_the_overflowing_run():
    model = Quadratic(torch.tensor([1.0], dtype=torch.float64))
    init = torch.tensor([[100.0, 0.0], [0.01, 0.0]])
    # run 0: 2^15·100 overflows float16 (max 65504) until the scale has halved six times to 512
    res = train(model, "adam", steps=10, n_runs=2, init=init, dtype=torch.float16, loss_scale="dynamic", lr=0.01)
    assert res.skipped[:6, 0].all() and not res.skipped[6:, 0].any() and not res.skipped[:, 1].any()
    assert res.loss_scale[6, 0].item() == 512.0
    alone = train(model, "adam", steps=10, n_runs=1, init=init[1:], dtype=torch.float16, loss_scale="dynamic", lr=0.01)
    assert torch.equal(alone.params[0], res.params[1])  # the other run never noticed


def test_natural_gradient_converges_in_one_step_on_linear_gaussian():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(8, 3, generator=gen, dtype=torch.float64)
    model = LinearGaussian(x, x @ torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64))
    # MSE = mean (Xθ−y)², gradient 2Xᵀ(Xθ−y)/B = 2F(θ−θ*): lr ½ lands on θ* exactly
    res = train(model, "natural_gradient", steps=1, n_runs=2, lr=0.5, optimizer_options={"damping": 0.0})
    assert res.loss[-1].max().item() < 1e-20


def test_qng_trains_a_circuit():
    model = TorchCircuit(2, [[("RY", 0), ("RY", 1)]] * 2, tfim(2))
    res = train(model, "qng", steps=20, n_runs=2, seed=0, lr=0.1)
    assert (res.loss[-1] < res.loss[0]).all()


def test_steps_to():
    res = train(Quadratic(C), "sgd", steps=3, n_runs=2, seed=0, lr=0.1)
    res.loss = torch.tensor([[3.0, 3.0], [2.0, 3.0], [1.0, 3.0], [0.5, 3.0]])
    assert res.steps_to(1.0).tolist() == [2, -1]


@pytest.mark.parametrize("kwargs,err", [
    ({"steps": 0}, ValueError), ({"n_runs": True}, ValueError), ({"optimizer": "lbfgs"}, ValueError),
    ({"dtype": torch.int32}, ValueError), ({"init": torch.zeros(3, 2)}, ValueError),
    ({"schedule": "linear"}, ValueError), ({"clip_norm": -1.0}, ValueError),
])
def test_train_rejects_bad_input(kwargs, err):
    with pytest.raises(err):
        train(Quadratic(C), **{"steps": 2, "n_runs": 2, **kwargs})


def test_train_rejects_non_model():
    with pytest.raises(TypeError, match="qcgrad.Model"):
        train(object(), "adam")
    assert "adam" in OPTIMIZERS


def test_finite_rows_trusts_the_norm_only_when_it_is_finite():
    # row 0: finite entries whose squares overflow float32 (norm inf) are still finite;
    # row 1: one NaN; row 2: ordinary
    grad = torch.tensor([[1e30, 1e30], [float("nan"), 1.0], [3.0, 4.0]], dtype=torch.float32)
    norm = torch.linalg.vector_norm(grad, dim=1)
    assert not torch.isfinite(norm[0])
    assert _finite_rows(grad, norm).tolist() == [True, False, True]


def test_adam_run_that_skipped_steps_takes_a_full_first_step():
    # run 0 overflows float16 for 6 steps (see the test above) and skips them; its first real step
    # must be Adam's first step, −lr·g/(|g| + ε) = −lr for g = c²θ = 100, not one bias-corrected
    # for 7 steps (−0.506·lr: m = 0.1g, v = 0.001g² divided by 1 − 0.9⁷ and 1 − 0.999⁷)
    model = Quadratic(torch.tensor([1.0], dtype=torch.float64))
    init = torch.tensor([[100.0, 0.0], [0.01, 0.0]])
    res = train(model, "adam", steps=7, n_runs=2, init=init, dtype=torch.float16, loss_scale="dynamic", lr=0.01)
    assert res.skipped[:, 0].tolist() == [True] * 6 + [False]
    # float32 spacing at 100 is 7.6e-6; the wrong bias correction is off by 4.9e-3
    assert res.params[0, 0].item() == pytest.approx(100.0 - 0.01, abs=2e-5)


def test_qng_metric_approximation_is_a_train_argument_and_recorded():
    model = qg.quantum.circuit("hardware_efficient", n_qubits=2, n_layers=2, cost="tfim")
    default = train(model, "qng", steps=3, n_runs=2, seed=0, lr=0.1)
    full = train(model, "qng", steps=3, n_runs=2, seed=0, lr=0.1, approx="full")
    same = train(model, "qng", steps=3, n_runs=2, seed=0, lr=0.1, optimizer_options={"approx": "full"})
    assert default.config["optimizer_options"] == {"approx": "block-diag"}
    assert full.config["optimizer_options"] == {"approx": "full"}
    assert torch.equal(full.params, same.params) and not torch.equal(full.params, default.params)


@pytest.mark.parametrize("kwargs,match", [
    ({"optimizer": "adam", "approx": "full"}, "qng.* only"),
    ({"optimizer": "qng", "approx": "full", "optimizer_options": {"approx": "diag"}}, "contradicts"),
    ({"optimizer": "qng", "approx": "kfac"}, "block-diag"),
    ({"optimizer": "adam", "optimizer_options": {"momentum": 0.9}}, "betas"),
    ({"optimizer": "sgd", "schedule": "cosine", "schedule_options": {"gamma": 0.5}}, "eta_min"),
])
def test_train_options_errors_name_what_is_allowed(kwargs, match):
    model = qg.quantum.circuit("tensor_product", n_qubits=2, cost="local")
    with pytest.raises(ValueError, match=match):
        train(model, steps=1, n_runs=1, **kwargs)
