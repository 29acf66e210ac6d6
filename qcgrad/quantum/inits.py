"""Initial angle distributions of circuits: uniform, small-angle, identity-block (Grant 2019).

An init is chosen by a spec string (:mod:`qcgrad.quantum.specs`): ``"uniform"`` (U[0, 2π)),
``"small_angle"`` or ``"small_angle:sigma=0.05"`` (N(0, σ²), default σ = 0.1), or
``"identity_block"``. The identity-block init (Grant et al. 2019) is structural as well: the
ansatz then places every odd layer as the inverse of the layer's gates, and each such layer
starts with a copy of the preceding layer's parameters, so every pair of layers — and the
whole circuit — is the identity at initialization. The pairs' parameters are independent
afterwards (training moves them apart).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from .specs import parse_spec

TWO_PI = 2 * math.pi
#: Default standard deviation of the "small_angle" initialization (radians).
SMALL_ANGLE_SIGMA = 0.1


def uniform(gen: torch.Generator, shape: tuple[int, ...]) -> torch.Tensor:
    """U[0, 2π) angles, float64."""
    return TWO_PI * torch.rand(shape, generator=gen, dtype=torch.float64)


def small_angle(gen: torch.Generator, shape: tuple[int, ...], sigma: float = SMALL_ANGLE_SIGMA) -> torch.Tensor:
    """N(0, σ²) angles, float64: the circuit starts near the identity."""
    return sigma * torch.randn(shape, generator=gen, dtype=torch.float64)


#: Init name -> angle sampler ``(generator, shape, **knobs) -> Tensor``; identity_block draws its
#: free half uniformly and mirrors it (see ``qcgrad.quantum.inits.mirror_layers``).
INITS: dict[str, Callable[..., torch.Tensor]] = {
    "uniform": uniform, "small_angle": small_angle, "identity_block": uniform,
}
#: Knobs each init accepts in its spec string.
INIT_KNOBS: dict[str, tuple[str, ...]] = {"uniform": (), "small_angle": ("sigma",), "identity_block": ()}
#: Inits whose circuit places every odd layer as the inverse of its gates.
MIRRORED = ("identity_block",)


def parse_init(spec: str) -> tuple[str, dict[str, Any]]:
    """``(name, knobs)`` of an init spec, validated.

    Examples
    --------
    >>> parse_init("small_angle:sigma=0.05")
    ('small_angle', {'sigma': 0.05})
    """
    name, options = parse_spec(spec, "init", INIT_KNOBS)
    sigma = options.get("sigma", SMALL_ANGLE_SIGMA)
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not sigma > 0:
        raise ValueError(f"init={spec!r}: sigma={sigma!r} must be a number > 0")
    return name, options


def draw_angles(spec: str, gen: torch.Generator, shape: tuple[int, ...]) -> torch.Tensor:
    """Angles of ``shape`` from the init ``spec``.

    Examples
    --------
    >>> draw_angles("small_angle:sigma=0.0001", torch.Generator().manual_seed(0), (2, 3)).abs().max() < 0.01
    tensor(True)
    """
    name, options = parse_init(spec)
    return INITS[name](gen, shape, **options)


def mirror_layers(params: torch.Tensor, layer_index: Callable[[int], torch.Tensor], n_layers: int) -> torch.Tensor:
    """Copy layer 2j's parameters into layer 2j+1 (all of them, structure included).

    Parameters
    ----------
    params : Tensor[S, P]
    layer_index : Callable[[int], Tensor[int]]
        Layer k -> the positions of its parameters in the flat vector, in the same order
        for every layer.
    n_layers : int
        Even.

    Returns
    -------
    Tensor[S, P]
        A copy with every odd layer equal to the layer before it.
    """
    out = params.clone()
    for k in range(0, n_layers - 1, 2):
        out[:, layer_index(k + 1)] = params[:, layer_index(k)]
    return out


__all__ = ["INITS", "INIT_KNOBS", "MIRRORED", "SMALL_ANGLE_SIGMA", "uniform", "small_angle", "parse_init",
           "draw_angles", "mirror_layers"]
