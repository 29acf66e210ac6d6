"""DenseNet builder: every layer sees all earlier feature maps."""
import pytest
import torch

from qcgrad.classical import densenet


def test_layer_k_reads_width_plus_k_growth_channels():
    width, growth, depth, kernel = 3, 2, 4, 3
    net = densenet(depth=depth, width=width, growth_rate=growth, kernel_size=kernel)
    for k in range(depth):
        assert net.shapes[f"layers.{k}.weight"] == (growth, width + k * growth, kernel)
    assert net.shapes["readout.weight"] == (1, width + depth * growth, 1)
    assert list(net.param_groups)[-1] == "readout"


def test_forward_matches_explicit_concatenation():
    net = densenet(depth=2, width=2, growth_rate=2, activation="elu", batch_size=3, length=5)
    theta = net.sample_params(torch.Generator().manual_seed(0), 1)[0]
    p = net.unflatten(theta)
    conv = torch.nn.functional.conv1d
    f = net.inputs
    for k in range(2):
        new = conv(f, p[f"layers.{k}.weight"], p[f"layers.{k}.bias"], padding=1)
        f = torch.cat([f, torch.nn.functional.elu(new)], 1)
    out = conv(f, p["readout.weight"], p["readout.bias"])
    torch.testing.assert_close(net.forward(theta), out, rtol=1e-13, atol=1e-13)


def test_first_layer_gets_gradient():
    net = densenet(depth=3)
    g = net.grad(net.sample_params(torch.Generator().manual_seed(0), 3))
    assert torch.all(g[:, net.param_groups["layer:0"]].abs().sum(1) > 0)


@pytest.mark.parametrize("bad, match", [(dict(growth_rate=0), "growth_rate=0"), (dict(depth=0), "depth=0"),
                                        (dict(kernel_size=2), "kernel_size=2")])
def test_bad_knobs(bad, match):
    with pytest.raises(ValueError, match=match):
        densenet(**{"depth": 2, **bad})
