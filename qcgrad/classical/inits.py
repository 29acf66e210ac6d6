"""Weight initializations, drawn for n init samples at once (one generator, no sample loop).

Every sampler returns ``Tensor[n, *shape]``. Fans follow PyTorch: a weight of shape
``[out, in, *kernel]`` has fan_in = in·Πkernel and fan_out = out·Πkernel.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch

#: Standard deviation of the "small" initialization.
SMALL_STD = 1e-2


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of ``shape`` (``[out, in, *kernel]``; a vector has fan 1)."""
    if len(shape) < 2:
        return 1, 1
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _normal(generator, n, shape, std, dtype):
    return std * torch.randn(n, *shape, generator=generator, dtype=dtype)


def xavier(generator: torch.Generator, n: int, shape: tuple[int, ...], dtype: torch.dtype,
        std: float = 1.0) -> torch.Tensor:
    """Glorot normal: Var = 2/(fan_in + fan_out)."""
    fan_in, fan_out = fans(shape)
    return _normal(generator, n, shape, math.sqrt(2.0 / (fan_in + fan_out)), dtype)


def he(generator: torch.Generator, n: int, shape: tuple[int, ...], dtype: torch.dtype,
        std: float = 1.0) -> torch.Tensor:
    """Kaiming normal for ReLU: Var = 2/fan_in."""
    fan_in, _ = fans(shape)
    return _normal(generator, n, shape, math.sqrt(2.0 / fan_in), dtype)


def normal(generator: torch.Generator, n: int, shape: tuple[int, ...], dtype: torch.dtype,
        std: float = 1.0) -> torch.Tensor:
    """N(0, std²) entries, whatever the fans."""
    return _normal(generator, n, shape, std, dtype)


def small(generator: torch.Generator, n: int, shape: tuple[int, ...], dtype: torch.dtype,
        std: float = 1.0) -> torch.Tensor:
    """N(0, SMALL_STD²) entries: the near-zero start under which gradients vanish at once."""
    return _normal(generator, n, shape, SMALL_STD, dtype)


def orthogonal(generator: torch.Generator, n: int, shape: tuple[int, ...], dtype: torch.dtype,
        std: float = 1.0) -> torch.Tensor:
    """Haar-random (semi-)orthogonal matrices of the flattened ``[out, in·Πkernel]`` shape.

    QR of Gaussian matrices with the signs of R's diagonal folded into Q, which makes Q
    Haar-distributed (Mezzadri 2007). All singular values are 1.
    """
    rows, cols = shape[0], math.prod(shape[1:]) if len(shape) > 1 else 1
    tall = (max(rows, cols), min(rows, cols))
    q, r = torch.linalg.qr(torch.randn(n, *tall, generator=generator, dtype=dtype))
    q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)
    if rows < cols:
        q = q.transpose(-2, -1)
    return q.reshape(n, *shape)


#: Init name -> sampler ``(generator, n, shape, dtype, std) -> Tensor[n, *shape]``.
INITS: dict[str, Callable[..., torch.Tensor]] = {
    "xavier": xavier,
    "he": he,
    "orthogonal": orthogonal,
    "normal": normal,
    "small": small,
}


def rescale_spectral_radius(w: torch.Tensor, radius: float) -> torch.Tensor:
    """Rescale every square ``[h, h]`` block of ``w[n, k·h, h]`` to spectral radius ``radius``.

    The spectral radius sets the asymptotic per-step gain of a linear recurrence
    (‖W^t‖^{1/t} → ρ); the spectral norm of a non-normal matrix is larger. Gated cells
    stack k gate matrices, each rescaled on its own.
    """
    n, rows, h = w.shape
    blocks = w.reshape(n, rows // h, h, h)
    rho = torch.linalg.eigvals(blocks).abs().amax(dim=-1)
    return (blocks * (radius / rho)[..., None, None]).reshape(n, rows, h)
