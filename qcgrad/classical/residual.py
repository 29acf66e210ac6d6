"""Residual nets: fully-connected and 1-D convolutional blocks y = x + F(x)."""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..validation import check_choice, check_int, check_positive
from .activations import ACTIVATIONS, get_activation
from .base import TorchModel, build, layer_groups
from .inits import INITS
from .layers import Conv1d, Dense, Norm, Stack

#: What ``kind=`` accepts: dense blocks on vectors, or convolutions on 1-D signals.
RESIDUAL_KINDS = ("fc", "conv")


class ResidualBlock(nn.Module):
    """y = x + F(x), F = layer → [BN] → σ → layer → [BN(γ₀)].

    With BatchNorm and γ₀ = 0 (zero-γ) the branch outputs its β = 0 at init, so the block
    is exactly the identity.
    """

    def __init__(self, make_layer: Callable[[], nn.Module], width: int, activation: str, batchnorm: bool,
                 zero_gamma: bool):
        super().__init__()
        self.act = get_activation(activation)
        self.first, self.second = make_layer(), make_layer()
        self.norm1 = Norm(width) if batchnorm else None
        self.norm2 = Norm(width, gamma=0.0 if zero_gamma else 1.0) if batchnorm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.first(x)
        h = self.act(self.norm1(h) if self.norm1 is not None else h)
        h = self.second(h)
        return x + (self.norm2(h) if self.norm2 is not None else h)


def resnet(depth: int, width: int = 16, kind: str = "fc", activation: str = "relu", init: str = "he",
           std: float = 1.0, batchnorm: bool = False, zero_gamma: bool = False, length: int = 8,
           kernel_size: int = 3, batch_size: int = 16, seed: int = 0,
           dtype: torch.dtype = torch.float64) -> TorchModel:
    """Residual net of ``depth`` blocks y = x + F(x), cost = MSE on a fixed seeded batch.

    Block k is group ``"layer:k"``; there is no stem or readout, so inputs and outputs have
    the block shape (``[batch, width]`` for "fc", ``[batch, width, length]`` for "conv").
    BatchNorm uses the statistics of the fixed batch (train mode), computed functionally for
    every init sample under vmap; no running statistics exist.

    Parameters
    ----------
    depth : int
        Number of residual blocks (≥ 1).
    width : int
        Features ("fc") or channels ("conv").
    kind : {"fc", "conv"}
    activation, init, std
        As in :func:`mlp`.
    batchnorm : bool
        BatchNorm after each layer of the branch.
    zero_gamma : bool
        γ = 0 in the last BatchNorm of every branch (needs ``batchnorm=True``): every block,
        hence the net, is the identity at init.
    length, kernel_size : int
        Signal length and (odd) kernel size for ``kind="conv"``.
    batch_size, seed, dtype
        As in :func:`mlp`.

    Examples
    --------
    >>> net = resnet(depth=3, width=4, batchnorm=True, zero_gamma=True)
    >>> list(net.param_groups)
    ['layer:0', 'layer:1', 'layer:2']
    """
    check_int(depth=depth, width=width, length=length, kernel_size=kernel_size, batch_size=batch_size)
    check_choice("kind", kind, RESIDUAL_KINDS)
    check_choice("activation", activation, ACTIVATIONS)
    check_choice("init", init, INITS)
    check_positive(std=std)
    if zero_gamma and not batchnorm:
        raise ValueError("zero_gamma=True needs batchnorm=True (γ is the BatchNorm scale)")
    make_layer: Callable[[], nn.Module]
    shape: tuple[int, ...]
    if kind == "fc":
        make_layer, shape = (lambda: Dense(width, width, init, std)), (batch_size, width)
    else:
        make_layer, shape = (lambda: Conv1d(width, width, kernel_size, init, std)), (batch_size, width, length)
    module = Stack([ResidualBlock(make_layer, width, activation, batchnorm, zero_gamma) for _ in range(depth)])
    knobs = dict(depth=depth, width=width, kind=kind, activation=activation, init=init, std=std,
                 batchnorm=batchnorm, zero_gamma=zero_gamma, batch_size=batch_size)
    if kind == "conv":
        knobs.update(length=length, kernel_size=kernel_size)
    return build("resnet", module, layer_groups(module.layers), shape, shape, knobs, seed=seed, dtype=dtype)
