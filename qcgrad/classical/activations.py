"""Elementwise activations by name: what `activation=` accepts in every builder."""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..validation import check_choice

#: Slope of LeakyReLU on the negative side (PyTorch's default).
LEAKY_SLOPE = 0.01

#: Activation name -> elementwise function. "linear" is the identity (slope 1).
ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, LEAKY_SLOPE),
    "elu": F.elu,
    "linear": lambda z: z,
}


def get_activation(name: str, slope: float = 1.0) -> Callable[[torch.Tensor], torch.Tensor]:
    """The activation called ``name``; ``slope`` scales the "linear" one (σ(z) = slope·z).

    Examples
    --------
    >>> get_activation("linear", slope=1.5)(torch.tensor(2.0)).item()
    3.0
    """
    check_choice("activation", name, ACTIVATIONS)
    if name == "linear" and slope != 1.0:
        return lambda z: slope * z
    return ACTIVATIONS[name]

