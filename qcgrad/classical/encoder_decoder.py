"""A small 1-D U-Net: encoder, bottleneck, decoder with skip concatenations."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..validation import check_choice, check_int, check_positive
from .activations import ACTIVATIONS, get_activation
from .base import TorchModel, build, layer_groups
from .inits import INITS
from .layers import Conv1d


class UNet(nn.Module):
    """``depth`` encoder levels (conv, then halve the length), a bottleneck conv, ``depth``
    decoder levels (double the length, concatenate the encoder's map, conv), a 1×1 readout."""

    def __init__(self, depth: int, width: int, in_channels: int, activation: str, init: str, std: float,
                 kernel_size: int):
        super().__init__()
        self.depth, self.act = depth, get_activation(activation)
        encoder = [Conv1d(in_channels if k == 0 else width, width, kernel_size, init, std) for k in range(depth)]
        bottleneck = [Conv1d(width, width, kernel_size, init, std)]
        decoder = [Conv1d(2 * width, width, kernel_size, init, std) for _ in range(depth)]
        self.layers = nn.ModuleList(encoder + bottleneck + decoder)
        self.readout = Conv1d(width, in_channels, 1, init, std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for conv in self.layers[: self.depth]:
            x = self.act(conv(x))
            skips.append(x)
            x = F.avg_pool1d(x, 2)
        x = self.act(self.layers[self.depth](x))
        for conv, skip in zip(self.layers[self.depth + 1:], reversed(skips), strict=True):
            x = torch.repeat_interleave(x, 2, dim=-1)
            x = self.act(conv(torch.cat([x, skip], dim=1)))
        return self.readout(x)


def unet(depth: int, width: int = 4, in_channels: int = 1, activation: str = "relu", init: str = "he",
         std: float = 1.0, length: int | None = None, kernel_size: int = 3, batch_size: int = 8, seed: int = 0,
         dtype: torch.dtype = torch.float64) -> TorchModel:
    """U-Net with ``depth`` down/up levels on ``[batch, in_channels, length]`` signals.

    Groups: ``"layer:0"`` … ``"layer:{depth-1}"`` the encoder, ``"layer:{depth}"`` the
    bottleneck, ``"layer:{depth+1}"`` … ``"layer:{2·depth}"`` the decoder (deepest first),
    and ``"readout"``. The skip connections make the first encoder layer only two layers
    from the output along the shortest path. Cost = MSE against a fixed target signal.

    Parameters
    ----------
    depth : int
        Number of levels (≥ 1).
    width : int
        Channels at every level.
    in_channels : int
        Channels of the input and output signal.
    length : int, optional
        Signal length, a multiple of 2**depth; 2·2**depth when omitted.
    activation, init, std, kernel_size, batch_size, seed, dtype
        As in :func:`densenet`.

    Examples
    --------
    >>> len(unet(depth=2).param_groups)
    6
    """
    check_int(depth=depth, width=width, in_channels=in_channels, kernel_size=kernel_size,
              batch_size=batch_size)
    length = 2 * 2**depth if length is None else length
    check_int(length=length)
    if length % 2**depth:
        raise ValueError(f"length={length} is not allowed; it must be a multiple of 2**depth = {2**depth}")
    check_choice("activation", activation, ACTIVATIONS)
    check_choice("init", init, INITS)
    check_positive(std=std)
    module = UNet(depth, width, in_channels, activation, init, std, kernel_size)
    knobs = dict(depth=depth, width=width, in_channels=in_channels, activation=activation, init=init, std=std,
                 length=length, kernel_size=kernel_size, batch_size=batch_size)
    shape = (batch_size, in_channels, length)
    return build("unet", module, layer_groups(module.layers, readout=module.readout), shape, shape, knobs,
                 seed=seed, dtype=dtype)
