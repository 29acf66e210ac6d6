"""Signal propagation at init: ReLU gradient gain n·Var(W)/2 and dynamical isometry.

The backward vector of layer l is δ_l = ∂C/∂h_l (h_l the pre-activation). With a batch of
one, the bias gradient of layer l *is* δ_l, so the test reads it off the model's gradient.
"""
import math
from functools import partial

import numpy as np
import pytest
import torch
from torch.func import jacrev

from qcgrad.classical import deep_linear, mlp
from qcgrad.seeding import sample_block


def _backward_norms(net, depth, n_samples, seed=0):
    """‖δ_l‖² per sample for the hidden layers l = 0..depth-2: array [depth-1, S]."""
    g = net.grad(sample_block(net, seed, 0, n_samples))
    slices = [net.param_slices[f"layers.{layer}.bias"] for layer in range(depth - 1)]
    return np.array([(g[:, s] ** 2).sum(1).numpy() for s in slices])


def _mean_gain(norms):
    """Mean of the per-sample ratios ‖δ_l‖²/‖δ_{l+1}‖² over layers and samples, and its SE.

    Given δ_{l+1}, ‖δ_l‖² = Σ_i m_i (W^T δ_{l+1})_i² with ReLU masks m_i ~ Bernoulli(1/2):
    the ratio is gain·(2/n)·Σ m_i z_i², z ~ N(0, 1), whose relative SD is
    sqrt(n·Var(m z²))/(n/2) = sqrt(1.25 n)/(n/2) = sqrt(5/n). The pairs are nearly
    independent, so SE = gain·sqrt(5/n)/sqrt(S·pairs); the empirical SE is returned as well.
    """
    ratios = norms[:-1] / norms[1:]
    return ratios.mean(), ratios.std() / math.sqrt(ratios.size)


@pytest.mark.parametrize("init, gain", [("he", 1.0), ("xavier", 0.5)])
def test_relu_backward_gain_is_n_var_over_two(init, gain):
    width, depth, samples = 256, 6, 64
    net = mlp(depth=depth, width=width, activation="relu", init=init, batch_size=1)
    norms = _backward_norms(net, depth, samples)
    mean, empirical_se = _mean_gain(norms)
    pairs = depth - 2
    se = gain * math.sqrt(5 / width) / math.sqrt(samples * pairs)  # derivation in _mean_gain
    # The derivation describes the data: the empirical SE of N ratios estimates the derived one
    # with relative error sqrt((κ−1)/(4N)) (the SE of a standard deviation, κ the ratios'
    # kurtosis); 4 of those, plus the O(1/n) finite-width correction of the derivation.
    ratios = (norms[:-1] / norms[1:]).ravel()
    centred = ratios - ratios.mean()
    kurt = (centred**4).mean() / (centred**2).mean() ** 2
    assert abs(empirical_se / se - 1) < 4 * math.sqrt((kurt - 1) / (4 * ratios.size)) + 1 / width
    # 4 SE for the Monte-Carlo error plus the O(1/n) finite-width correction of the mean.
    assert abs(mean - gain) < 4 * se + gain / width


def test_relu_he_keeps_the_gain_over_fifty_layers():
    width, depth, samples = 64, 50, 40
    net = mlp(depth=depth, width=width, activation="relu", init="he", batch_size=1)
    # Per-layer ratios, not ‖δ_0‖²/‖δ_48‖²: the end-to-end norm is log-normal with log-variance
    # ≈ 5L/n ≈ 4 here, so its sample mean over 40 inits is useless while the ratios are not.
    mean, _ = _mean_gain(_backward_norms(net, depth, samples))
    se = math.sqrt(5 / width) / math.sqrt(samples * (depth - 2))
    assert abs(mean - 1.0) < 4 * se + 1.0 / width


@pytest.mark.parametrize("depth", [1, 8, 32])
def test_orthogonal_deep_linear_net_is_an_isometry(depth):
    width = 12
    net = deep_linear(depth=depth, width=width, init="orthogonal", batch_size=1)
    for theta in net.sample_params(torch.Generator().manual_seed(depth), 3):
        jac = jacrev(partial(net.forward, theta))(net.inputs).reshape(width, width)
        s = torch.linalg.svdvals(jac)
        torch.testing.assert_close(s, torch.ones(width, dtype=torch.float64), rtol=0, atol=1e-12)


def test_gaussian_deep_linear_net_is_not_an_isometry():
    net = deep_linear(depth=16, width=12, init="xavier", batch_size=1)
    theta = net.sample_params(torch.Generator().manual_seed(0), 1)[0]
    s = torch.linalg.svdvals(jacrev(lambda x: net.forward(theta, x))(net.inputs).reshape(12, 12))
    assert s.max() / s.min() > 100  # products of Gaussian matrices spread their spectrum
