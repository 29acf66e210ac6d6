"""Transformer blocks (multi-head scaled dot-product attention, pre-LN or post-LN) and the ``transformer`` builder.

The module is named ``attention`` so that ``qcgrad.classical.transformer`` is the builder only
(a module of the same name would be shadowed by it, and show the function's docstring).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..validation import check_choice, check_int, check_positive
from .activations import ACTIVATIONS, get_activation
from .base import TorchModel, build, layer_groups
from .inits import INITS
from .layers import Dense, Norm, Stack

#: Where LayerNorm sits: before each sublayer inside the residual branch, or after the sum.
NORM_PLACEMENTS = ("pre", "post")


def attention_weights(q: torch.Tensor, k: torch.Tensor, scale: bool = True, temperature: float = 1.0) -> torch.Tensor:
    """softmax(q kᵀ / (√d · T)) over the keys; without ``scale`` the √d is left out.

    Parameters
    ----------
    q : Tensor[..., n_q, d]
    k : Tensor[..., n_k, d]
    scale : bool
        Divide the logits by √d. For random q, k with unit entries the logits then have
        unit variance for every d; without it their variance is d, and the softmax
        saturates (its Jacobian vanishes) as d grows.
    temperature : float
        T > 0; the logits are divided by T.

    Returns
    -------
    Tensor[..., n_q, n_k]

    Examples
    --------
    >>> attention_weights(torch.zeros(1, 4), torch.zeros(2, 4)).tolist()
    [[0.5, 0.5]]
    """
    logits = q @ k.transpose(-2, -1) / temperature
    if scale:
        logits = logits / math.sqrt(q.shape[-1])
    return torch.softmax(logits, dim=-1)


class SelfAttention(nn.Module):
    def __init__(self, width: int, heads: int, init: str, std: float, scale: bool, temperature: float):
        super().__init__()
        self.heads, self.scale, self.temperature = heads, scale, temperature
        self.query, self.key, self.value, self.out = (Dense(width, width, init, std) for _ in range(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, seq, width = x.shape

        def split(t: torch.Tensor) -> torch.Tensor:  # [B, S, W] -> [B, heads, S, W/heads]
            return t.view(batch, seq, self.heads, width // self.heads).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        mixed = attention_weights(q, k, self.scale, self.temperature) @ v
        return self.out(mixed.transpose(1, 2).reshape(batch, seq, width))


class TransformerBlock(nn.Module):
    """Attention and a two-layer MLP, each in a residual branch, LayerNorm pre or post."""

    def __init__(self, width: int, heads: int, hidden: int, activation: str, init: str, std: float, norm: str,
                 scale: bool, temperature: float):
        super().__init__()
        self.norm, self.act = norm, get_activation(activation)
        self.attention = SelfAttention(width, heads, init, std, scale, temperature)
        self.norm1, self.norm2 = Norm(width, kind="layer"), Norm(width, kind="layer")
        self.up, self.down = Dense(width, hidden, init, std), Dense(hidden, width, init, std)

    def _mlp(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(self.act(self.up(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.norm == "pre":
            x = x + self.attention(self.norm1(x))
            return x + self._mlp(self.norm2(x))
        x = self.norm1(x + self.attention(x))
        return self.norm2(x + self._mlp(x))


def transformer(depth: int, width: int = 16, heads: int = 2, seq_len: int = 8, norm: str = "pre",
                scale: bool = True, temperature: float = 1.0, activation: str = "relu", init: str = "xavier",
                std: float = 1.0, mlp_ratio: int = 2, batch_size: int = 4, seed: int = 0,
                dtype: torch.dtype = torch.float64) -> TorchModel:
    """A stack of ``depth`` Transformer blocks on ``[batch, seq_len, width]`` inputs.

    Block k (group ``"layer:k"``): multi-head self-attention and an MLP of hidden width
    ``mlp_ratio·width``, each in a residual branch with LayerNorm before it (``"pre"``) or
    after the sum (``"post"``). Cost = MSE against fixed targets of the input's shape.

    Parameters
    ----------
    depth : int
        Number of blocks (≥ 1).
    width : int
        Model width d (a multiple of ``heads``).
    heads : int
        Attention heads; each has d/heads dimensions.
    seq_len : int
        Tokens per sequence (≥ 1).
    norm : {"pre", "post"}
    scale : bool
        The 1/√d_head scaling of the attention logits (see :func:`attention_weights`).
    temperature : float
        Softmax temperature T > 0.
    activation, init, std, batch_size, seed, dtype
        As in :func:`mlp`.
    mlp_ratio : int
        Hidden width of the MLP over ``width``.

    Examples
    --------
    >>> net = transformer(depth=2, width=8, heads=2, norm="post")
    >>> net.describe()["norm"], list(net.param_groups)
    ('post', ['layer:0', 'layer:1'])
    """
    check_int(depth=depth, width=width, heads=heads, seq_len=seq_len, mlp_ratio=mlp_ratio,
              batch_size=batch_size)
    if width % heads:
        raise ValueError(f"width={width} is not allowed with heads={heads}; width must be a multiple of heads")
    check_choice("norm", norm, NORM_PLACEMENTS)
    check_choice("activation", activation, ACTIVATIONS)
    check_choice("init", init, INITS)
    check_positive(temperature=temperature, std=std)
    module = Stack([TransformerBlock(width, heads, mlp_ratio * width, activation, init, std, norm, scale,
                                           temperature) for _ in range(depth)])
    knobs = dict(depth=depth, width=width, heads=heads, seq_len=seq_len, norm=norm, scale=scale,
                 temperature=temperature, activation=activation, init=init, std=std, mlp_ratio=mlp_ratio,
                 batch_size=batch_size)
    shape = (batch_size, seq_len, width)
    return build("transformer", module, layer_groups(module.layers), shape, shape, knobs, seed=seed, dtype=dtype)
