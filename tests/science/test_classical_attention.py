"""The 1/√d scaling keeps the softmax of random attention logits out of saturation."""
import torch
from torch.func import jacrev

from qcgrad.classical import attention_weights

DIMS = [16, 64, 256, 1024]


def _softmax_jacobian_norm(d, scale, n_draws=400, n_keys=16):
    """Mean Frobenius norm of ∂softmax/∂logits = diag(p) − p pᵀ over random unit-normal q, k."""
    gen = torch.Generator().manual_seed(d)
    q = torch.randn(n_draws, 1, d, generator=gen, dtype=torch.float64)
    k = torch.randn(n_draws, n_keys, d, generator=gen, dtype=torch.float64)
    p = attention_weights(q, k, scale=scale)[:, 0]
    jac = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
    return torch.linalg.matrix_norm(jac).mean().item()


def test_closed_form_softmax_jacobian_matches_autograd():
    logits = torch.randn(6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    p = torch.softmax(logits, -1)
    torch.testing.assert_close(jacrev(lambda s: torch.softmax(s, -1))(logits), torch.diag(p) - torch.outer(p, p))


def test_unscaled_jacobian_shrinks_with_d_and_scaled_one_stays_order_one():
    unscaled = [_softmax_jacobian_norm(d, scale=False) for d in DIMS]
    scaled = [_softmax_jacobian_norm(d, scale=True) for d in DIMS]
    # Unscaled logits have standard deviation √d: the softmax tends to one-hot. The norm is
    # ≈ √2·p₂ ≈ √2·e^{-gap}, the gap between the two largest logits is √d times an O(1) random
    # gap with nonzero density at 0, so E‖J‖ ∝ 1/√d for large d: a steady fall with d.
    assert all(a > b for a, b in zip(unscaled, unscaled[1:]))
    assert unscaled[-1] < 0.3 * unscaled[0]
    # Scaled logits have unit variance for every d: the norm is the same up to sampling noise
    # (400 draws; the per-draw norm varies by ≲ 60 %, so the mean by ≲ 3 %; allow 15 %).
    assert max(scaled) < 1.15 * min(scaled)
    assert min(scaled) > 0.2
