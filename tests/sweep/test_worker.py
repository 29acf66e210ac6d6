import math

import numpy as np
import torch

import qcgrad as qg
from qcgrad import classical
from qcgrad.sweep.config import parse_config
from qcgrad.sweep.grid import expand
from qcgrad.sweep.worker import compute_point
from sweep_helpers import study


def test_a_point_is_exactly_gradient_variance_with_its_seed():
    # Independent truth: the library estimator called directly with the point's derived seed.
    for point in expand(parse_config(study()))[:2]:
        result = compute_point(point)
        est = qg.gradient_variance(point.build(), n_samples=point.n_samples, seed=point.seed,
                                   params=point.params, chunk_size=point.chunk_size)
        assert result.status == "done"
        assert (result.variance, result.ci, result.se, result.kurtosis) == (est.variance, est.ci, est.se, est.kurtosis)
        assert np.array_equal(result.grads, est.samples.numpy())
        assert result.model == est.model


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
