import math

import numpy as np
import torch

from qcgrad import classical
from qcgrad.seeding import sample_block
from qcgrad.sweep.config import parse_config
from qcgrad.sweep.grid import expand
from qcgrad.sweep.worker import compute_point


def test_a_point_matches_the_tensor_product_closed_form():
    # Cerezo 2021 tensor product, local cost: C = 1 − (1/n) Σ cos²(θᵢ/2), so ∂C/∂θ₁ = sin θ₁ / (2n)
    # for every sample (checked against the point's own angles) and Var = 1/(8n²) over θ ~ U[0, 2π).
    # Band: 4 SE, SE = Var·sqrt((κ−1)/S) with κ = E[sin⁴]/E[sin²]² = 3/2 for a uniform angle.
    cfg = parse_config({"study": {"n_samples": 2000, "chunk_size": 300, "seed": 7},
                        "model": {"family": "quantum", "ansatz": "tensor_product", "cost": "local"},
                        "grid": {"n_qubits": [1, 3]}})
    for point in expand(cfg):
        n, s = point.knobs["n_qubits"], point.n_samples
        result = compute_point(point)
        assert (result.status, result.indices, result.method) == ("done", [0], "sample")
        theta = sample_block(point.build(), point.seed, 0, s)[:, 0].double()
        np.testing.assert_allclose(result.grads[:, 0], (torch.sin(theta) / (2 * n)).numpy(), rtol=0, atol=1e-12)
        exact = 1 / (8 * n**2)
        assert abs(result.variance - exact) < 4 * exact * math.sqrt(0.5 / s)
        assert result.ci[0] < exact < result.ci[1]


def test_the_tower_variance_agrees_with_its_closed_form():
    # Linear tower: ∂f/∂w = x·slope^L exactly for every sample, so Var = 0 and mean = slope^L.
    cfg = parse_config({"study": {"n_samples": 4}, "model": {"family": "classical", "architecture": "tower",
                                                             "activation": "linear", "slope": 1.5},
                        "grid": {"depth": [3]}})
    result = compute_point(expand(cfg)[0])
    assert result.variance == 0.0 and math.isclose(result.mean, 1.5**3, rel_tol=1e-12)


class NaNTower:
    """Wraps a tower so that every gradient is NaN (a diverging model)."""

    def __init__(self, depth):
        self.model = classical.tower(depth=depth)

    def __getattr__(self, name):
        return getattr(self.model, name)

    def grad(self, params, indices=None):
        return torch.full((params.shape[0], len(indices)), math.nan)


def test_non_finite_gradients_fail_the_point_without_raising(monkeypatch):
    monkeypatch.setitem(classical.ARCHITECTURES, "nan_tower", NaNTower)
    cfg = parse_config({"study": {"n_samples": 4}, "model": {"family": "classical", "architecture": "nan_tower"},
                        "grid": {"depth": [2]}})
    result = compute_point(expand(cfg)[0])
    assert result.status == "failed" and result.variance is None
    assert result.error == "FloatingPointError: 4 of 4 gradients are not finite (NaN or inf)"
