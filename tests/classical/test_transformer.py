"""Transformer blocks against torch.nn.MultiheadAttention; pre/post-LN; knobs."""
import math

import pytest
import torch
import torch.nn.functional as F

from qcgrad.classical import attention_weights, transformer


def test_attention_weights_scale_and_temperature():
    q = torch.randn(3, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    k = torch.randn(5, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    torch.testing.assert_close(attention_weights(q, k, scale=True, temperature=2.0),
                               torch.softmax(q @ k.T / (math.sqrt(8) * 2.0), dim=-1))
    torch.testing.assert_close(attention_weights(q, k, scale=False), torch.softmax(q @ k.T, dim=-1))


def _attention_reference(net, p, x, k):
    """Block k's attention with torch.nn.MultiheadAttention loaded with the model's weights."""
    width, heads = net.knobs["width"], net.knobs["heads"]
    mha = torch.nn.MultiheadAttention(width, heads, batch_first=True).double()
    pre = f"layers.{k}.attention."
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([p[pre + n + ".weight"] for n in ("query", "key", "value")]))
        mha.in_proj_bias.copy_(torch.cat([p[pre + n + ".bias"] for n in ("query", "key", "value")]))
        mha.out_proj.weight.copy_(p[pre + "out.weight"])
        mha.out_proj.bias.copy_(p[pre + "out.bias"])
    return mha(x, x, x, need_weights=False)[0]


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_block_matches_a_reference_built_from_torch_nn(norm):
    net = transformer(depth=2, width=8, heads=2, seq_len=5, norm=norm, activation="tanh", batch_size=3)
    theta = net.sample_params(torch.Generator().manual_seed(0), 1)[0]
    theta[net.param_slices["layers.0.norm1.bias"]] = 0.1  # non-trivial LayerNorm affine
    p = net.unflatten(theta)
    x = net.inputs
    for k in range(2):
        pre = f"layers.{k}."

        def ln(t, i, pre=pre):
            return F.layer_norm(t, (8,), p[pre + f"norm{i}.weight"], p[pre + f"norm{i}.bias"], 1e-5)

        def mlp(t, pre=pre):
            return F.linear(torch.tanh(F.linear(t, p[pre + "up.weight"], p[pre + "up.bias"])),
                            p[pre + "down.weight"], p[pre + "down.bias"])

        if norm == "pre":
            x = x + _attention_reference(net, p, ln(x, 1), k)
            x = x + mlp(ln(x, 2))
        else:
            x = ln(x + _attention_reference(net, p, x, k), 1)
            x = ln(x + mlp(x), 2)
    torch.testing.assert_close(net.forward(theta), x, rtol=1e-11, atol=1e-11)


def test_unscaled_attention_and_temperature_are_knobs():
    a = transformer(depth=1, width=8, scale=False, temperature=4.0)
    assert (a.describe()["scale"], a.describe()["temperature"]) == (False, 4.0)
    theta = a.sample_params(torch.Generator().manual_seed(0), 2)
    assert torch.isfinite(a.grad(theta)).all()


@pytest.mark.parametrize("bad, match", [
    (dict(depth=0), "depth=0"), (dict(width=6, heads=4), "width=6 .* heads=4"),
    (dict(norm="sandwich"), "norm='sandwich'.*pre, post"), (dict(temperature=0.0), "temperature=0.0"),
    (dict(seq_len=0), "seq_len=0"),
])
def test_bad_knobs(bad, match):
    with pytest.raises(ValueError, match=match):
        transformer(**{"depth": 1, **bad})


def test_normal_init_uses_std():
    net = transformer(depth=1, width=8, init="normal", std=0.05)
    theta = net.sample_params(torch.Generator().manual_seed(0), 4)
    w = theta[:, net.param_slices["layers.0.up.weight"]]
    # 4·128 N(0, 0.05²) entries: the sample SD has relative SE 1/sqrt(2·512) ≈ 3 %; allow 4 SE.
    assert w.std().item() == pytest.approx(0.05, rel=0.12)
