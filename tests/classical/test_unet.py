"""U-Net builder: levels, skip connections, lengths."""
import pytest
import torch

from qcgrad.classical import unet


def test_groups_encoder_bottleneck_decoder_readout():
    net = unet(depth=3, width=4)
    assert list(net.param_groups) == [f"layer:{k}" for k in range(7)] + ["readout"]
    assert net.inputs.shape == (8, 1, 16)
    assert net.shapes["layers.4.weight"] == (4, 8, 3)  # decoder conv reads upsampled + skip channels


def test_skip_connection_reaches_the_output():
    # With the deepest path cut (bottleneck weights 0) the output still depends on the input
    # through the first skip concatenation.
    net = unet(depth=2, width=3, activation="tanh", init="xavier")
    theta = net.sample_params(torch.Generator().manual_seed(0), 1)[0]
    theta[net.param_slices["layers.2.weight"]] = 0
    jac = torch.func.jacrev(lambda x: net.forward(theta, x))(net.inputs)
    assert jac.abs().sum() > 0


def test_gradients_reach_every_group():
    net = unet(depth=2)
    g = net.grad(net.sample_params(torch.Generator().manual_seed(0), 4))
    for sl in net.param_groups.values():
        assert g[:, sl].abs().sum() > 0


@pytest.mark.parametrize("bad, match", [(dict(length=12), "length=12.*multiple of 2\\*\\*depth = 8"),
                                        (dict(depth=0), "depth=0"), (dict(width=0), "width=0")])
def test_bad_knobs(bad, match):
    with pytest.raises(ValueError, match=match):
        unet(**{"depth": 3, **bad})
