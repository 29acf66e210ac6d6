import numpy as np
import pytest
import torch
from scipy.special import digamma

from qcgrad.diagnostics import lyapunov_spectrum


@pytest.mark.slow
def test_gaussian_product_spectrum_matches_closed_form():
    n, s, T, R = 4, 1.5, 1000, 8
    gen = torch.Generator().manual_seed(0)
    mats = s / np.sqrt(n) * torch.randn(R, T, n, n, generator=gen, dtype=torch.float64)
    lam = lyapunov_spectrum(mats).mean(0).numpy()
    i = np.arange(1, n + 1)
    expected = 0.5 * (np.log(2 * s**2 / n) + digamma((n - i + 1) / 2))
    # per step ln|R_ii| = ½ ln(s²χ²_k/n) has variance ¼ψ'(k/2) ≤ ¼ψ'(1/2) ≈ 1.23, so the mean over
    # R·T = 8000 steps has SE ≤ sqrt(1.23/8000) ≈ 0.0124; tolerance 5 SE ≈ 0.062
    np.testing.assert_allclose(lam, expected, rtol=0, atol=0.062)
