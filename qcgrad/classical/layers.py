"""Leaf layers that know how to draw their own init samples.

Each leaf owns its parameters and a ``sample(generator, n, dtype)`` that returns them for
``n`` init samples at once; :class:`qcgrad.classical.base.TorchModel` walks the leaves.
Normalization is purely functional (batch statistics of the current batch, no running
buffers), so a forward pass never mutates the module and runs under ``torch.func.vmap``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..validation import check_choice
from .inits import INITS, rescale_spectral_radius


class Leaf(nn.Module):
    """A module whose own parameters are sampled by :meth:`sample`."""

    def sample(self, generator: torch.Generator, n: int, dtype: torch.dtype) -> dict[str, torch.Tensor]:
        """``{param name: Tensor[n, *shape]}`` for this module's own parameters."""
        raise NotImplementedError

    def reset_parameters(self) -> None:
        """Redraw the parameters in place from :meth:`sample` with torch's global RNG, as torch
        layers do; so a built-in network also works through :func:`qcgrad.classical.from_module`."""
        with torch.no_grad():
            for name, value in self.sample(torch.default_generator, 1, torch.float64).items():
                getattr(self, name).copy_(value[0])


class Dense(Leaf):
    """Affine map x W^T + b with a named init for W and a constant (or per-entry) bias.

    Parameters
    ----------
    n_in, n_out : int
    init : str
        A name in :data:`qcgrad.classical.INITS`.
    std : float
        Standard deviation for ``init="normal"``.
    bias : bool
    bias_value : float or Tensor[n_out]
        Initial bias (the same in every sample); LSTM forget-gate biases use it.
    gates : int
        W stacks this many ``[n_out/gates, n_in]`` blocks (the gates of an LSTM or GRU),
        each drawn with ``init`` on its own, so each gate is e.g. orthogonal.
    radius : float, optional
        Rescale each gate block (square: ``n_out = gates·n_in``) to this spectral radius.
    """

    def __init__(self, n_in: int, n_out: int, init: str = "xavier", std: float = 1.0, bias: bool = True,
                 bias_value: float | torch.Tensor = 0.0, gates: int = 1, radius: float | None = None):
        super().__init__()
        check_choice("init", init, INITS)
        self.init, self.std, self.gates, self.radius = init, std, gates, radius
        self.weight = nn.Parameter(torch.empty(n_out, n_in))
        self.bias = nn.Parameter(torch.empty(n_out)) if bias else None
        self.bias_value = bias_value

    def sample(self, generator, n, dtype):
        rows, cols = self.weight.shape
        block = (rows // self.gates, cols)
        w = torch.cat([INITS[self.init](generator, n, block, dtype, self.std) for _ in range(self.gates)], dim=1)
        if self.radius is not None:
            w = rescale_spectral_radius(w, self.radius)
        out = {"weight": w}
        if self.bias is not None:
            out["bias"] = torch.as_tensor(self.bias_value, dtype=dtype).expand(n, *self.bias.shape).clone()
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight, self.bias)


class Conv1d(Leaf):
    """1-D convolution ``[B, C_in, T] -> [B, C_out, T]`` ("same" padding, odd kernel)."""

    def __init__(self, n_in: int, n_out: int, kernel_size: int = 3, init: str = "xavier", std: float = 1.0,
                 bias: bool = True):
        super().__init__()
        check_choice("init", init, INITS)
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size={kernel_size} is not allowed; it must be an odd int ≥ 1")
        self.init, self.std = init, std
        self.weight = nn.Parameter(torch.empty(n_out, n_in, kernel_size))
        self.bias = nn.Parameter(torch.empty(n_out)) if bias else None

    def sample(self, generator, n, dtype):
        out = {"weight": INITS[self.init](generator, n, tuple(self.weight.shape), dtype, self.std)}
        if self.bias is not None:
            out["bias"] = torch.zeros(n, *self.bias.shape, dtype=dtype)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv1d(x, self.weight, self.bias, padding=self.weight.shape[-1] // 2)


class Norm(Leaf):
    """BatchNorm or LayerNorm with affine γ, β and no running statistics.

    ``kind="batch"`` normalizes each channel (dim 1) over the batch and any trailing
    positions, with the current batch's statistics — train mode, computed functionally per
    sample-model, never updating running buffers. ``kind="layer"`` normalizes the last dim.
    ``gamma`` is the initial γ: 0 gives the zero-γ residual init.
    """

    EPS = 1e-5

    def __init__(self, features: int, kind: str = "batch", gamma: float = 1.0):
        super().__init__()
        check_choice("norm kind", kind, ("batch", "layer"))
        self.kind, self.gamma0 = kind, gamma
        self.weight = nn.Parameter(torch.empty(features))
        self.bias = nn.Parameter(torch.empty(features))

    def sample(self, generator, n, dtype):
        return {"weight": torch.full((n, self.weight.numel()), float(self.gamma0), dtype=dtype),
                "bias": torch.zeros(n, self.bias.numel(), dtype=dtype)}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "layer":
            return F.layer_norm(x, x.shape[-1:], self.weight, self.bias, self.EPS)
        dims = [0, *range(2, x.dim())]
        mean = x.mean(dim=dims, keepdim=True)
        var = x.var(dim=dims, unbiased=False, keepdim=True)
        shape = [1, -1] + [1] * (x.dim() - 2)
        return (x - mean) / torch.sqrt(var + self.EPS) * self.weight.view(shape) + self.bias.view(shape)


class Scalar(Leaf):
    """One weight w (stored as shape [1]) drawn from a named init; forward is w·x."""

    def __init__(self, init: str = "normal", std: float = 1.0):
        super().__init__()
        check_choice("init", init, INITS)
        self.init, self.std = init, std
        self.weight = nn.Parameter(torch.empty(1))

    def sample(self, generator, n, dtype):
        return {"weight": INITS[self.init](generator, n, (1,), dtype, self.std)}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.weight * x


class Offset(Leaf):
    """An additive offset, initialized to 0: its gradient is the gradient w.r.t. the input it shifts."""

    def __init__(self, features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(features))

    def sample(self, generator, n, dtype):
        return {"weight": torch.zeros(n, self.weight.numel(), dtype=dtype)}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.weight


class Stack(nn.Module):
    """Blocks applied in order; ``layers`` holds them so parameter groups follow the blocks."""

    def __init__(self, blocks: list[nn.Module]):
        super().__init__()
        self.layers = nn.ModuleList(blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.layers:
            x = block(x)
        return x
