import torch

from qcgrad.diagnostics import memory_profile, peak_bytes
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
