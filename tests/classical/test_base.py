"""TorchModel: vmap gradients against a per-sample loop and against finite differences."""
import pytest
import torch

from qcgrad.classical import mlp
from qcgrad.classical.base import TorchModel, fixed_batch


def _net():
    return mlp(depth=3, width=5, activation="tanh", init="xavier", batch_size=4)


def test_vmap_gradients_equal_a_per_sample_loop():
    net = _net()
    theta = net.sample_params(torch.Generator().manual_seed(0), 6)
    batched = net.grad(theta)
    for row, g in zip(theta, batched, strict=True):
        p = row.clone().requires_grad_(True)
        (loop,) = torch.autograd.grad(net.cost(p[None]).sum(), p)
        torch.testing.assert_close(g, loop, rtol=1e-12, atol=1e-14)


def test_gradients_match_central_finite_differences():
    net = _net()
    theta = net.sample_params(torch.Generator().manual_seed(1), 2)
    g = net.grad(theta)
    h = 1e-6  # central differences in float64: error O(h²·C''') + O(eps/h) ≈ 1e-10
    for j in range(0, net.n_params, 7):
        e = torch.zeros(net.n_params, dtype=torch.float64)
        e[j] = h
        fd = (net.cost(theta + e) - net.cost(theta - e)) / (2 * h)
        torch.testing.assert_close(g[:, j], fd, rtol=1e-6, atol=1e-8)


def test_indices_select_columns():
    net = _net()
    theta = net.sample_params(torch.Generator().manual_seed(2), 3)
    idx = torch.tensor([0, 4, 9])
    torch.testing.assert_close(net.grad(theta, idx), net.grad(theta)[:, idx])


def test_sampling_is_deterministic_and_fills_every_entry():
    net = _net()
    a = net.sample_params(torch.Generator().manual_seed(3), 4)
    b = net.sample_params(torch.Generator().manual_seed(3), 4)
    assert torch.equal(a, b) and a.dtype == torch.float64
    weights = torch.cat([a[:, net.param_slices[f"layers.{k}.weight"]] for k in range(3)], dim=1)
    biases = torch.cat([a[:, net.param_slices[f"layers.{k}.bias"]] for k in range(3)], dim=1)
    assert torch.all(weights != 0) and torch.all(biases == 0)


def test_unflatten_round_trips_and_groups_tile_the_vector():
    net = _net()
    theta = torch.arange(net.n_params, dtype=torch.float64)
    back = torch.cat([v.reshape(-1) for v in net.unflatten(theta).values()])
    assert torch.equal(back, theta)
    covered = sorted(i for sl in net.param_groups.values() for i in range(sl.start, sl.stop))
    assert covered == list(range(net.n_params))


def test_data_batch_is_seeded():
    assert torch.equal(fixed_batch(5, [(2, 3)], torch.float64)[0], fixed_batch(5, [(2, 3)], torch.float64)[0])
    a, b = mlp(depth=2, width=3, seed=0), mlp(depth=2, width=3, seed=1)
    assert not torch.equal(a.inputs, b.inputs)


def test_float32_dtype_knob():
    net = mlp(depth=2, width=3, dtype=torch.float32)
    theta = net.sample_params(torch.Generator().manual_seed(0), 2)
    assert theta.dtype == torch.float32 and net.grad(theta).dtype == torch.float32
    assert net.describe()["dtype"] == "float32"


def test_bad_loss_and_dtype():
    net = _net()
    with pytest.raises(ValueError, match="loss='l1'.*mse, output"):
        TorchModel(net.module, {"layer:0": net.module}, net.inputs, net.targets, "l1", {}, torch.float64)
    with pytest.raises(TypeError, match="dtype="):
        mlp(depth=2, width=3, dtype=torch.int64)


def test_gradients_of_selected_indices_skip_other_tensors_but_agree():
    net = _net()
    theta = net.sample_params(torch.Generator().manual_seed(4), 3)
    full = net.grad(theta)
    for idx in ([0], [29, 3, 35, 30], list(range(net.n_params - 1, -1, -5)), [net.n_params - 1]):
        idx = torch.tensor(idx)
        torch.testing.assert_close(net.grad(theta, idx), full[:, idx], rtol=0, atol=0)
