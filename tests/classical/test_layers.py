"""Leaf layers: functional BatchNorm, LayerNorm, convolution, gate-block inits."""
import pytest
import torch
import torch.nn.functional as F

from qcgrad.classical.layers import Conv1d, Dense, Norm, Offset, Scalar

GEN = torch.Generator().manual_seed(0)


def _load(leaf, n=1):
    params = leaf.sample(torch.Generator().manual_seed(0), n, torch.float64)
    return {k: v[0] for k, v in params.items()}


def test_batchnorm_uses_batch_statistics_like_torch_train_mode():
    norm = Norm(3)
    p = {"weight": torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64),
         "bias": torch.tensor([0.0, -1.0, 3.0], dtype=torch.float64)}
    for shape in [(7, 3), (5, 3, 4)]:
        x = torch.randn(*shape, generator=GEN, dtype=torch.float64)
        ours = torch.func.functional_call(norm, p, (x,))
        ref = F.batch_norm(x, None, None, p["weight"], p["bias"], training=True, eps=Norm.EPS)
        torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)
    assert list(norm.buffers()) == []  # nothing to mutate under vmap


def test_layernorm_and_zero_gamma():
    norm = Norm(4, kind="layer", gamma=0.0)
    p = _load(norm)
    assert torch.all(p["weight"] == 0)
    x = torch.randn(2, 5, 4, generator=GEN, dtype=torch.float64)
    p1 = {"weight": torch.ones(4, dtype=torch.float64), "bias": torch.zeros(4, dtype=torch.float64)}
    torch.testing.assert_close(torch.func.functional_call(norm, p1, (x,)), F.layer_norm(x, (4,), eps=Norm.EPS))
    with pytest.raises(ValueError, match="norm kind='group'.*batch, layer"):
        Norm(4, kind="group")


def test_conv_is_same_padded_and_rejects_even_kernels():
    conv = Conv1d(2, 3, kernel_size=5)
    p = _load(conv)
    x = torch.randn(4, 2, 9, generator=GEN, dtype=torch.float64)
    out = torch.func.functional_call(conv, p, (x,))
    torch.testing.assert_close(out, F.conv1d(x, p["weight"], p["bias"], padding=2))
    with pytest.raises(ValueError, match="kernel_size=4"):
        Conv1d(2, 3, kernel_size=4)


def test_dense_gate_blocks_are_each_orthogonal_and_rescaled():
    dense = Dense(5, 15, "orthogonal", gates=3, bias_value=torch.arange(15.0))
    p = dense.sample(torch.Generator().manual_seed(1), 2, torch.float64)
    blocks = p["weight"].reshape(2, 3, 5, 5)
    eye = torch.eye(5, dtype=torch.float64).expand(2, 3, 5, 5)
    torch.testing.assert_close(blocks @ blocks.transpose(-1, -2), eye, rtol=0, atol=1e-12)
    torch.testing.assert_close(p["bias"][1], torch.arange(15.0, dtype=torch.float64))
    scaled = Dense(5, 10, "xavier", gates=2, radius=0.5).sample(torch.Generator().manual_seed(2), 3, torch.float64)
    rho = torch.linalg.eigvals(scaled["weight"].reshape(3, 2, 5, 5)).abs().amax(-1)
    torch.testing.assert_close(rho, torch.full_like(rho, 0.5), rtol=1e-12, atol=0)


def test_scalar_and_offset_leaves():
    assert _load(Offset(3))["weight"].tolist() == [0.0, 0.0, 0.0]
    w = Scalar("normal", std=2.0).sample(torch.Generator().manual_seed(0), 4, torch.float64)["weight"]
    assert w.shape == (4, 1)
    with pytest.raises(ValueError, match="init='bad'"):
        Dense(2, 2, "bad")
