"""Feed-forward nets: the scalar tower, deep linear nets and MLPs."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..validation import check_choice, check_int, check_positive
from .activations import ACTIVATIONS, get_activation
from .base import TorchModel, build, check_real, layer_groups
from .inits import INITS
from .layers import Dense, Scalar


class Tower(nn.Module):
    """f_L = σ∘…∘σ(w·x): one weight, L activations."""

    def __init__(self, depth: int, activation: str, slope: float, init: str, std: float):
        super().__init__()
        self.depth, self.act = depth, get_activation(activation, slope)
        self.layers = nn.ModuleList([Scalar(init, std)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.layers[0](x)
        for _ in range(self.depth):
            z = self.act(z)
        return z


def tower(depth: int, activation: str = "sigmoid", x: float = 1.0, slope: float = 1.0, init: str = "normal",
          std: float = 1.0, dtype: torch.dtype = torch.float64) -> TorchModel:
    """The scalar tower f_L = σ∘…∘σ(w·x) with one weight w; the cost is f_L itself.

    The closed form ∂f/∂w = x·Π_k σ'(z_k) (z_1 = w·x, z_{k+1} = σ(z_k)) makes it the
    smallest exact test of a product of Jacobians; for ``activation="linear"`` σ(z) = slope·z
    and ∂f/∂w = x·slope^L.

    Parameters
    ----------
    depth : int
        Number of activations L ≥ 1.
    activation : str
        A name in :data:`qcgrad.classical.ACTIVATIONS`.
    x : float
        The fixed input.
    slope : float
        Slope of the "linear" activation.
    init : str
        Distribution of w (a name in :data:`qcgrad.classical.INITS`; fans are 1, so "normal" with ``std``).
    std : float
        Standard deviation for ``init="normal"``.
    dtype : torch.dtype

    Examples
    --------
    >>> net = tower(depth=10, activation="linear", slope=1.5)
    >>> round(net.grad(torch.zeros(1, 1, dtype=torch.float64)).item(), 3)
    57.665
    """
    check_int(depth=depth)
    check_choice("activation", activation, ACTIVATIONS)
    check_choice("init", init, INITS)
    check_real(x=x, slope=slope)
    check_positive(std=std)
    module = Tower(depth, activation, slope, init, std)
    knobs = dict(depth=depth, width=1, activation=activation, init=init, std=std, x=x, slope=slope)
    return build("tower", module, layer_groups(module.layers), (), None, knobs, dtype=dtype, loss="output",
                 inputs=torch.tensor(float(x), dtype=dtype))


class MLP(nn.Module):
    """Dense layers with the activation between them (none after the last)."""

    def __init__(self, sizes: list[int], activation: str, init: str, std: float, bias: bool):
        super().__init__()
        self.act = get_activation(activation)
        self.layers = nn.ModuleList(Dense(a, b, init, std, bias) for a, b in zip(sizes[:-1], sizes[1:], strict=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for k, layer in enumerate(self.layers):
            x = layer(x) if k == 0 else layer(self.act(x))
        return x


def _mlp(architecture: str, depth: int, width: int, activation: str, init: str, std: float, bias: bool,
         in_dim: int | None, out_dim: int, batch_size: int, seed: int, dtype: torch.dtype) -> TorchModel:
    in_dim = width if in_dim is None else in_dim
    check_int(depth=depth, width=width, in_dim=in_dim, out_dim=out_dim, batch_size=batch_size)
    check_choice("activation", activation, ACTIVATIONS)
    check_choice("init", init, INITS)
    check_positive(std=std)
    sizes = [in_dim] + [width] * (depth - 1) + [out_dim]
    module = MLP(sizes, activation, init, std, bias)
    knobs: dict[str, Any] = dict(depth=depth, width=width, activation=activation, init=init, std=std, bias=bias,
                                 in_dim=in_dim, out_dim=out_dim, batch_size=batch_size)
    return build(architecture, module, layer_groups(module.layers), (batch_size, in_dim), (batch_size, out_dim),
                 knobs, seed=seed, dtype=dtype)


def mlp(depth: int, width: int = 32, activation: str = "tanh", init: str = "xavier", std: float = 1.0,
        bias: bool = True, in_dim: int | None = None, out_dim: int = 1, batch_size: int = 16, seed: int = 0,
        dtype: torch.dtype = torch.float64) -> TorchModel:
    """Fully-connected net of ``depth`` weight layers, cost = MSE on a fixed seeded batch.

    Layer k (group ``"layer:k"``) is W_k x + b_k; the activation acts between layers, not
    after the last. Biases start at 0; weights follow ``init``.

    Parameters
    ----------
    depth : int
        Number of weight layers (≥ 1).
    width : int
        Hidden width (and input width unless ``in_dim`` is given).
    activation : {"sigmoid", "tanh", "relu", "leaky_relu", "elu", "linear"}
    init : {"xavier", "he", "orthogonal", "normal", "small"}
    std : float
        Weight standard deviation for ``init="normal"``.
    bias : bool
    in_dim, out_dim : int
        Input and output widths.
    batch_size : int
        Size of the fixed data batch (inputs and targets standard normal).
    seed : int
        Seed of the data batch (not of the init samples: those come from the estimator's seed).
    dtype : torch.dtype
        float64 by default: deep sigmoid gradients underflow float32.

    Examples
    --------
    >>> net = mlp(depth=3, width=4)
    >>> net.n_params, list(net.param_groups)
    (45, ['layer:0', 'layer:1', 'layer:2'])
    """
    return _mlp("mlp", depth, width, activation, init, std, bias, in_dim, out_dim, batch_size, seed, dtype)


def deep_linear(depth: int, width: int = 16, init: str = "orthogonal", std: float = 1.0, batch_size: int = 16,
                seed: int = 0, dtype: torch.dtype = torch.float64) -> TorchModel:
    """Deep linear net x ↦ W_L⋯W_1 x (square, no biases), cost = MSE on a fixed batch.

    With ``init="orthogonal"`` the input-output Jacobian is a product of orthogonal
    matrices: every singular value is exactly 1 (dynamical isometry).

    Examples
    --------
    >>> deep_linear(depth=4, width=3).n_params
    36
    """
    return _mlp("deep_linear", depth, width, "linear", init, std, False, None, width, batch_size, seed, dtype)
