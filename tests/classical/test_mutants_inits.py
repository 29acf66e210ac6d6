"""Initializations: the checks mutation testing asked for (Haar distribution, defaults, conv fans)."""
import math

import pytest
import torch

from qcgrad.classical.inits import INITS, he, normal, orthogonal, xavier


def test_orthogonal_is_haar_distributed_entries_have_mean_zero_and_variance_one_over_d():
    # For Haar-random Q in O(d) every entry has E = 0 and E[Q_ij²] = 1/d. Plain QR of a Gaussian
    # matrix (R's diagonal signs not folded into Q) biases the diagonal: E[Q_ii] ≠ 0.
    # n = 4000 draws of d = 3: SE of a mean is sqrt(1/(d n)) ≈ 0.0091; allow 4 SE. The mean of Q_ij²
    # has SE ≤ sqrt(E[Q⁴]/n) ≤ sqrt(1/n) ≈ 0.016; allow 4 SE.
    n, d = 4000, 3
    q = orthogonal(torch.Generator().manual_seed(1), n, (d, d), torch.float64)
    assert q.mean(0).abs().max().item() < 4 * math.sqrt(1 / (d * n))
    assert (q**2).mean(0).sub(1 / d).abs().max().item() < 4 * math.sqrt(1 / n)


def test_normal_draws_unit_variance_by_default():
    # 40 000 entries: the variance has relative SE sqrt(2/N) ≈ 0.71 %; allow 4 SE.
    w = normal(torch.Generator().manual_seed(0), 100, (20, 20), torch.float64)
    assert w.var().item() == pytest.approx(1.0, rel=4 * math.sqrt(2 / w.numel()))


@pytest.mark.parametrize("init, expected_var", [(xavier, 2 / (3 * 9 + 5 * 9)), (he, 2 / (3 * 9))])
def test_conv_kernels_count_in_the_fans(init, expected_var):
    # A [out=5, in=3, 3, 3] kernel: fan_in = 3·9, fan_out = 5·9 (PyTorch's convention).
    w = init(torch.Generator().manual_seed(2), 400, (5, 3, 3, 3), torch.float64)
    # 54 000 normal entries: relative SE of the variance sqrt(2/N) ≈ 0.61 %; allow 4 SE.
    assert w.var().item() == pytest.approx(expected_var, rel=4 * math.sqrt(2 / w.numel()))


@pytest.mark.parametrize("name", sorted(INITS))
def test_every_init_draws_in_the_requested_dtype_and_reproduces_from_its_generator(name):
    # Same seed, same draw (results are functions of the seed alone); a different seed, a different draw.
    draw = [INITS[name](torch.Generator().manual_seed(s), 3, (4, 5), torch.float64) for s in (7, 7, 8)]
    assert draw[0].dtype == torch.float64 and draw[0].shape == (3, 4, 5)
    assert torch.equal(draw[0], draw[1]) and not torch.equal(draw[0], draw[2])
