"""ResNet builder: forward against a hand-written block, BatchNorm, zero-γ, knobs."""
import pytest
import torch

from qcgrad.classical import resnet


def test_fc_block_is_x_plus_branch():
    net = resnet(depth=2, width=3, activation="tanh", init="xavier", batch_size=4)
    theta = net.sample_params(torch.Generator().manual_seed(0), 1)[0]
    p = net.unflatten(theta)
    x = net.inputs
    for k in range(2):
        h = torch.tanh(x @ p[f"layers.{k}.first.weight"].T + p[f"layers.{k}.first.bias"])
        x = x + h @ p[f"layers.{k}.second.weight"].T + p[f"layers.{k}.second.bias"]
    torch.testing.assert_close(net.forward(theta), x, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("kind", ["fc", "conv"])
def test_zero_gamma_net_returns_its_input(kind):
    net = resnet(depth=3, width=4, kind=kind, batchnorm=True, zero_gamma=True, length=6)
    theta = net.sample_params(torch.Generator().manual_seed(1), 2)
    out = torch.func.vmap(net.forward)(theta)
    torch.testing.assert_close(out, net.inputs.expand_as(out), rtol=0, atol=0)


def test_batchnorm_branch_without_zero_gamma_changes_the_output():
    net = resnet(depth=1, width=4, batchnorm=True)
    theta = net.sample_params(torch.Generator().manual_seed(1), 1)[0]
    assert not torch.allclose(net.forward(theta), net.inputs)
    assert net.describe()["batchnorm"] is True


def test_conv_shapes_and_description():
    net = resnet(depth=2, width=3, kind="conv", length=5, kernel_size=3, batch_size=2)
    assert net.inputs.shape == (2, 3, 5)
    assert net.n_params == 2 * 2 * (3 * 3 * 3 + 3)
    d = net.describe()
    assert (d["architecture"], d["kind"], d["length"]) == ("resnet", "conv", 5)


@pytest.mark.parametrize("bad, match", [
    (dict(depth=0), "depth=0"), (dict(kind="2d"), "kind='2d'.*fc, conv"),
    (dict(zero_gamma=True), "zero_gamma=True needs batchnorm=True"),
    (dict(activation="gelu"), "activation='gelu'"), (dict(init="lsuv"), "init='lsuv'"),
])
def test_bad_knobs(bad, match):
    with pytest.raises(ValueError, match=match):
        resnet(**{"depth": 2, **bad})


def test_batchnorm_under_vmap_equals_a_per_sample_loop():
    # Batch statistics are taken over the data batch inside each sample-model, never across
    # init samples: the vmapped gradients must equal one-at-a-time autograd.
    net = resnet(depth=2, width=4, kind="conv", batchnorm=True, length=5, batch_size=3)
    theta = net.sample_params(torch.Generator().manual_seed(3), 4)
    batched = net.grad(theta)
    for row, g in zip(theta, batched, strict=True):
        p = row.clone().requires_grad_(True)
        (loop,) = torch.autograd.grad(net.sample_cost(p), p)
        torch.testing.assert_close(g, loop, rtol=1e-12, atol=1e-14)
