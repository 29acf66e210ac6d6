import pytest
import torch

import qcgrad as qg
from qcgrad.diagnostics import checkpointed_cost, memory_profile, peak_bytes
from qcgrad.model import Model

B, D = 64, 32  # batch and width: one float64 activation is B·D·8 = 16384 bytes


class Chain(Model):
    """tanh(h W_l), L layers with W_l = I/2 stored in the parameter vector."""

    def __init__(self, depth):
        self.depth, self.n_params = depth, depth * D * D
        self.param_groups = {f"layer:{k}": slice(k * D * D, (k + 1) * D * D) for k in range(depth)}
        self.x = torch.ones(B, D, dtype=torch.float64)

    def sample_params(self, generator, n):
        return (0.5 * torch.eye(D, dtype=torch.float64)).reshape(-1).repeat(n, self.depth)

    def cost(self, params):
        h = self.x.expand(params.shape[0], B, D)
        for w in params.view(params.shape[0], self.depth, D, D).unbind(1):
            h = torch.tanh(h @ w)
        return h.sum((1, 2))

    def describe(self):
        return {"depth": self.depth}


def test_peak_bytes_counts_live_storages():
    # the 1000 ones (8000 bytes) and the 8-byte sum are alive together
    assert peak_bytes(lambda: torch.ones(1000, dtype=torch.float64).sum()) == 8008


def test_training_memory_grows_with_depth():
    recs = memory_profile(Chain, [2, 8])
    act = B * D * 8
    train_growth = recs[1]["train_bytes"] - recs[0]["train_bytes"]
    # tanh saves its output (one activation per layer) for backward; 6 more layers keep ≥ 6 more
    assert train_growth >= 6 * act
    assert recs[1]["inference_bytes"] <= recs[1]["train_bytes"]


def test_peak_bytes_excludes_views_of_inputs():
    # a slice of an existing tensor shares its storage: only the 8-byte sum is new
    x = torch.ones(1000, dtype=torch.float64)
    assert peak_bytes(lambda: x[:10].sum()) == 8


def test_mlp_inference_is_flat_in_depth_and_checkpointing_sits_between():
    # B·d = 256·16 float64: one activation is 32768 bytes, 15× a layer's 2176 parameter
    # bytes, so activations dominate. Model: train = O(P + B·L·d), inference = O(P + B·d).
    batch, width, depths = 256, 16, [4, 9, 25]
    act = batch * width * 8
    recs = memory_profile(lambda d: qg.classical.mlp(depth=d, width=width, batch_size=batch), depths,
                          checkpoint=True)
    first, last = recs[0], recs[-1]
    layers = depths[-1] - depths[0]
    params = last["param_bytes"] - first["param_bytes"]
    # inference frees each activation once the next exists: adding 21 layers adds less than one
    assert abs(last["inference_bytes"] - first["inference_bytes"]) < act
    # training keeps ≥ 1 activation per layer (tanh saves its output, the next layer's input
    # is the same storage) plus at most the parameter gradient and its flat copy
    assert act * layers <= last["train_bytes"] - first["train_bytes"] <= act * layers + 2 * params
    # √L checkpointing keeps ~2√L activations: strictly between inference and training,
    # and its growth over 21 layers is under half of plain training's
    for r in recs[1:]:
        assert r["inference_bytes"] < r["checkpoint_bytes"] < r["train_bytes"]
    assert last["checkpoint_bytes"] - first["checkpoint_bytes"] < 0.5 * act * layers


def test_checkpoint_needs_one_run_and_a_layer_chain():
    with pytest.raises(ValueError, match="n_runs=2"):
        memory_profile(lambda d: qg.classical.mlp(depth=d, width=2), [2], n_runs=2, checkpoint=True)
    with pytest.raises(TypeError, match="layer-chain"):
        memory_profile(Chain, [2], checkpoint=True)


def test_checkpointed_gradient_equals_plain_gradient():
    net = qg.classical.mlp(depth=6, width=5, activation="sigmoid")
    theta = net.sample_params(torch.Generator().manual_seed(3), 1)[0].requires_grad_(True)
    checkpointed_cost(net, theta, segments=3).backward()
    assert torch.allclose(theta.grad, net.grad(theta.detach()[None])[0], rtol=1e-12, atol=1e-15)
