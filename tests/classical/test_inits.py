"""Initializations: variances, orthogonality and spectral radius."""
import math

import pytest
import torch

from qcgrad.classical.inits import INITS, SMALL_STD, fans, orthogonal, rescale_spectral_radius


@pytest.mark.parametrize("name, expected_var", [
    ("xavier", 2 / (40 + 60)), ("he", 2 / 40), ("normal", 0.3**2), ("small", SMALL_STD**2)])
def test_entry_variance(name, expected_var):
    w = INITS[name](torch.Generator().manual_seed(0), 50, (60, 40), torch.float64, std=0.3)
    assert w.shape == (50, 60, 40)
    # 120 000 normal entries: the sample variance has relative SE sqrt(2/N) = 0.41 %; allow 4 SE.
    assert w.var().item() == pytest.approx(expected_var, rel=4 * math.sqrt(2 / w.numel()))


def test_fans_of_conv_and_vector_shapes():
    assert fans((8, 4, 3)) == (12, 24)
    assert fans((5,)) == (1, 1)


@pytest.mark.parametrize("shape", [(6, 6), (4, 7), (7, 4), (3, 2, 3)])
def test_orthogonal_has_unit_singular_values(shape):
    w = orthogonal(torch.Generator().manual_seed(0), 5, shape, torch.float64).reshape(5, shape[0], -1)
    s = torch.linalg.svdvals(w)
    torch.testing.assert_close(s, torch.ones_like(s), rtol=0, atol=1e-12)


def test_spectral_radius_is_exact():
    w = torch.randn(4, 30, 10, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    blocks = rescale_spectral_radius(w, 0.9).reshape(4, 3, 10, 10)  # three gate blocks each
    rho = torch.linalg.eigvals(blocks).abs().amax(-1)
    torch.testing.assert_close(rho, torch.full_like(rho, 0.9), rtol=1e-12, atol=0)
