"""The 1/√d scaling keeps the softmax of random attention logits out of saturation.

With two keys the whole effect has a closed form. ∂softmax/∂logits = diag(p) − ppᵀ has Frobenius
norm 2p(1−p) with p = σ(Δ), Δ the difference of the two logits. For unit-normal q, k₁, k₂,
Δ = q·(k₁ − k₂)/s given q is N(0, 2|q|²/s²) with s = √d (scaled) or s = 1 (unscaled), and
|q|² ~ χ²_d, so E‖J‖_F = E_{r~χ²_d} E_{z~N(0,1)}[2σ(√(2r)/s·z)σ(−√(2r)/s·z)]: a double integral,
computed here with scipy, independently of qcgrad. Scaled, it does not depend on d; unscaled,
the logits' spread grows as √d, the softmax saturates and the norm falls like d^-1/2.
"""
import functools
import math

import pytest
import torch
from scipy import integrate, special, stats
from torch.func import jacrev

from qcgrad.classical import attention_weights

DIMS = [16, 64, 256, 1024]
N_DRAWS = 2000


def _softmax_jacobian_norm(d, scale):
    """Mean Frobenius norm of ∂softmax/∂logits over random unit-normal q and two keys, and its SE."""
    gen = torch.Generator().manual_seed(d)
    q = torch.randn(N_DRAWS, 1, d, generator=gen, dtype=torch.float64)
    k = torch.randn(N_DRAWS, 2, d, generator=gen, dtype=torch.float64)
    p = attention_weights(q, k, scale=scale)[:, 0]
    norms = torch.linalg.matrix_norm(torch.diag_embed(p) - p[:, :, None] * p[:, None, :])
    return norms.mean().item(), norms.std().item() / math.sqrt(N_DRAWS)


@functools.cache
def _closed_form_norm(d, scale):
    """E‖J‖_F for two keys: the double integral of the module docstring."""
    s2 = d if scale else 1.0

    def given_r(r):
        sd = math.sqrt(2 * r / s2)
        value, _ = integrate.quad(lambda z: 2 * special.expit(sd * z) * special.expit(-sd * z) * stats.norm.pdf(z),
                                  -12, 12, points=[0.0], limit=200)  # N(0,1) mass beyond ±12: < 1e-32
        return value

    upper = stats.chi2.ppf(1 - 1e-12, d)
    value, _ = integrate.quad(lambda r: given_r(r) * stats.chi2.pdf(r, d), 0, upper, limit=200)
    return value


def test_closed_form_softmax_jacobian_matches_autograd():
    logits = torch.randn(6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    p = torch.softmax(logits, -1)
    torch.testing.assert_close(jacrev(lambda s: torch.softmax(s, -1))(logits), torch.diag(p) - torch.outer(p, p))


@pytest.mark.parametrize("scale", [True, False], ids=["scaled", "unscaled"])
def test_softmax_jacobian_norm_equals_its_closed_form_at_every_width(scale):
    for d in DIMS:
        measured, se = _softmax_jacobian_norm(d, scale)
        # 4 standard errors of the mean over N_DRAWS independent draws.
        assert abs(measured - _closed_form_norm(d, scale)) < 4 * se, (d, measured, se)


def test_scaled_norm_is_width_independent_and_unscaled_falls_as_inverse_sqrt_d():
    scaled = [_closed_form_norm(d, True) for d in DIMS]
    unscaled = [_closed_form_norm(d, False) for d in DIMS]
    # Scaled: |q|²/d concentrates at 1, so the closed form tends to its d → ∞ value; the spread
    # over d = 16..1024 is the O(1/d) effect of the χ² fluctuation.
    assert max(scaled) - min(scaled) < 2 / DIMS[0] * max(scaled)
    # Unscaled: Δ has spread a = √(2r) ≈ √(2d), and E[2σ(az)σ(−az)] = (2φ(0)/a)·∫σ(x)σ(−x)dx
    # + O(a⁻³), so E‖J‖ ∝ d^-1/2 up to O(1/d): the log-slope between d = 256 and 1024 is −½ ± 0.01.
    slope = (math.log(unscaled[-1]) - math.log(unscaled[-2])) / (math.log(DIMS[-1]) - math.log(DIMS[-2]))
    assert slope == pytest.approx(-0.5, abs=0.01)
