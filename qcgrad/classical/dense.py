"""DenseNet on 1-D signals: every layer sees the concatenation of all earlier feature maps."""
from __future__ import annotations

import torch
from torch import nn

from ..validation import check_choice, check_int, check_positive
from .activations import ACTIVATIONS, get_activation
from .base import TorchModel, build, layer_groups
from .inits import INITS
from .layers import Conv1d


class DenseNet(nn.Module):
    """Layer k maps the ``width + k·growth_rate`` channels seen so far to ``growth_rate`` new ones."""

    def __init__(self, depth: int, width: int, growth_rate: int, activation: str, init: str, std: float,
                 kernel_size: int):
        super().__init__()
        self.act = get_activation(activation)
        self.layers = nn.ModuleList(Conv1d(width + k * growth_rate, growth_rate, kernel_size, init, std)
                                    for k in range(depth))
        self.readout = Conv1d(width + depth * growth_rate, 1, 1, init, std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = x
        for layer in self.layers:
            features = torch.cat([features, self.act(layer(features))], dim=1)
        return self.readout(features)


def densenet(depth: int, width: int = 4, growth_rate: int = 4, activation: str = "relu", init: str = "he",
             std: float = 1.0, length: int = 8, kernel_size: int = 3, batch_size: int = 8, seed: int = 0,
             dtype: torch.dtype = torch.float64) -> TorchModel:
    """DenseNet block of ``depth`` conv layers on ``[batch, width, length]`` signals.

    Layer k (group ``"layer:k"``) convolves the concatenation of the input and all earlier
    layers' outputs into ``growth_rate`` new channels; a 1×1 convolution (group
    ``"readout"``) maps all features to one output channel; cost = MSE on a fixed batch.
    No normalization layers (use :func:`resnet` for BatchNorm).

    Parameters
    ----------
    depth : int
        Number of dense layers (≥ 1).
    width : int
        Input channels.
    growth_rate : int
        New channels per layer (≥ 1).
    activation, init, std, batch_size, seed, dtype
        As in :func:`mlp`.
    length, kernel_size : int
        Signal length and (odd) kernel size.

    Examples
    --------
    >>> net = densenet(depth=2, width=2, growth_rate=3)
    >>> list(net.param_groups)
    ['layer:0', 'layer:1', 'readout']
    """
    check_int(depth=depth, width=width, growth_rate=growth_rate, length=length, kernel_size=kernel_size,
              batch_size=batch_size)
    check_choice("activation", activation, ACTIVATIONS)
    check_choice("init", init, INITS)
    check_positive(std=std)
    module = DenseNet(depth, width, growth_rate, activation, init, std, kernel_size)
    knobs = dict(depth=depth, width=width, growth_rate=growth_rate, activation=activation, init=init, std=std,
                 length=length, kernel_size=kernel_size, batch_size=batch_size)
    groups = layer_groups(module.layers, readout=module.readout)
    return build("densenet", module, groups, (batch_size, width, length), (batch_size, 1, length), knobs,
                 seed=seed, dtype=dtype)
