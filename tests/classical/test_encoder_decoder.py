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


def _conv1d_numpy(x, w, b):
    """Cross-correlation, zero "same" padding: out[n, o, t] = b[o] + Σ_{c,k} w[o, c, k]·x[n, c, t+k-p]."""
    import numpy as np

    n, _, length = x.shape
    out_ch, in_ch, size = w.shape
    pad = size // 2
    xp = np.zeros((n, in_ch, length + 2 * pad))
    xp[:, :, pad:pad + length] = x
    out = np.empty((n, out_ch, length))
    for t in range(length):
        out[:, :, t] = np.einsum("nck,ock->no", xp[:, :, t:t + size], w) + b
    return out


def test_forward_pass_equals_a_hand_built_reference():
    # Encoder: conv, tanh, keep for the skip, average pairs; bottleneck conv, tanh; decoder:
    # repeat each position twice, concatenate [upsampled, skip] on channels, conv, tanh;
    # 1×1 readout. Written with numpy loops, independent of torch's conv1d and pooling.
    import numpy as np

    depth = 2
    net = unet(depth=depth, width=3, in_channels=2, activation="tanh", init="xavier", batch_size=2)
    theta = net.sample_params(torch.Generator().manual_seed(4), 1)[0]
    # Nonzero biases too (the init draws them 0).
    theta += 0.1 * torch.randn(net.n_params, generator=torch.Generator().manual_seed(5), dtype=theta.dtype)
    p = {name: theta[sl].reshape(net.shapes[name]).numpy() for name, sl in net.param_slices.items()}
    conv = lambda x, k: _conv1d_numpy(x, p[f"layers.{k}.weight"], p[f"layers.{k}.bias"])  # noqa: E731
    x = net.inputs.numpy()
    skips = []
    for k in range(depth):
        x = np.tanh(conv(x, k))
        skips.append(x)
        x = x.reshape(x.shape[0], x.shape[1], -1, 2).mean(-1)
    x = np.tanh(conv(x, depth))
    for k, skip in zip(range(depth + 1, 2 * depth + 1), reversed(skips), strict=True):
        x = np.tanh(conv(np.concatenate([np.repeat(x, 2, axis=-1), skip], axis=1), k))
    expected = _conv1d_numpy(x, p["readout.weight"], p["readout.bias"])
    out = net.forward(theta)
    assert out.shape == (2, 2, 8)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12, atol=1e-12)
