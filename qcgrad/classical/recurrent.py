"""Recurrent nets: vanilla RNN, LSTM and GRU, with the sequence length T as the size knob.

The measured gradient. The parameter vector starts with group ``"input:0"``: an offset
added to the first input x_1, initialized to 0. Its gradient is ∂C/∂x_1, the gradient of
the loss at the last step (the only loss: readout of h_T) w.r.t. the first input, so
``params="first"`` (or ``"input:0"``) measures exactly how much of step 1 survives T
steps, which is the vanishing-gradient quantity for recurrences. The weight gradients,
sums over all steps, stay available in ``"layer:k"`` and ``"readout"``.
"""
from __future__ import annotations

import torch
from torch import nn

from ..validation import check_choice, check_int, check_positive
from .activations import ACTIVATIONS, get_activation
from .base import TorchModel, build, check_real, fixed_batch
from .inits import INITS
from .layers import Dense, Offset

#: Cell name -> number of gate blocks in its weight matrices.
CELLS = {"rnn": 1, "lstm": 4, "gru": 3}


class Cell(nn.Module):
    """One recurrent layer: input map ``x2h`` and recurrent map ``h2h`` (gate blocks stacked)."""

    def __init__(self, cell: str, n_in: int, width: int, activation: str, init: str, recurrent_init: str,
                 std: float, spectral_radius: float | None, gate_bias: float):
        super().__init__()
        gates = CELLS[cell]
        self.cell, self.act = cell, get_activation(activation)
        bias = torch.zeros(gates * width)
        if cell != "rnn":  # the second gate keeps the old state: LSTM (i, f, g, o) f; GRU (r, z, n) z
            bias[width:2 * width] = gate_bias
        self.x2h = Dense(n_in, gates * width, init, std, bias_value=bias, gates=gates)
        # GRU needs the recurrent bias b_hn inside r ⊙ (W_hn h + b_hn); elsewhere it is redundant.
        self.h2h = Dense(width, gates * width, recurrent_init, std, bias=cell == "gru", gates=gates,
                         radius=spectral_radius)

    def forward(self, xs: torch.Tensor) -> torch.Tensor:
        """``[B, T, n_in] -> [B, T, width]`` (the state starts at 0)."""
        width = self.h2h.weight.shape[1]
        h = xs.new_zeros(xs.shape[0], width)
        c = h
        outs = []
        for x_proj in self.x2h(xs).unbind(1):
            r_proj = self.h2h(h)
            if self.cell == "rnn":
                h = self.act(x_proj + r_proj)
            elif self.cell == "lstm":
                i, f, g, o = (x_proj + r_proj).chunk(4, dim=-1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * self.act(g)
                h = torch.sigmoid(o) * self.act(c)
            else:
                xr, xz, xn = x_proj.chunk(3, dim=-1)
                hr, hz, hn = r_proj.chunk(3, dim=-1)
                r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
                h = (1 - z) * self.act(xn + r * hn) + z * h
            outs.append(h)
        return torch.stack(outs, dim=1)


class RecurrentNet(nn.Module):
    def __init__(self, cells: list[Cell], n_in: int, width: int, out_dim: int, init: str, std: float):
        super().__init__()
        self.offset = Offset(n_in)
        self.layers = nn.ModuleList(cells)
        self.readout = Dense(width, out_dim, init, std)

    def forward(self, xs: torch.Tensor) -> torch.Tensor:
        first = self.offset(xs[:, :1])
        h = torch.cat([first, xs[:, 1:]], dim=1)
        for cell in self.layers:
            h = cell(h)
        return self.readout(h[:, -1])


def _recurrent(cell: str, seq_len: int, width: int, depth: int, activation: str, init: str, recurrent_init: str,
               std: float, spectral_radius: float | None, gate_bias: float, in_dim: int | None, out_dim: int,
               input_scale: float, batch_size: int, seed: int, dtype: torch.dtype) -> TorchModel:
    in_dim = width if in_dim is None else in_dim
    check_int(seq_len=seq_len, width=width, depth=depth, in_dim=in_dim, out_dim=out_dim,
              batch_size=batch_size)
    check_choice("activation", activation, ACTIVATIONS)
    check_choice("init", init, INITS)
    check_choice("recurrent_init", recurrent_init, INITS)
    check_positive(input_scale=input_scale, std=std)
    if spectral_radius is not None:
        check_positive(spectral_radius=spectral_radius)
    check_real(**{{"rnn": "gate_bias", "lstm": "forget_bias", "gru": "update_bias"}[cell]: gate_bias})
    cells = [Cell(cell, in_dim if k == 0 else width, width, activation, init, recurrent_init, std,
                  spectral_radius, gate_bias) for k in range(depth)]
    module = RecurrentNet(cells, in_dim, width, out_dim, init, std)
    groups = {"input:0": module.offset, **{f"layer:{k}": c for k, c in enumerate(module.layers)},
              "readout": module.readout}
    knobs = dict(seq_len=seq_len, width=width, depth=depth, activation=activation, init=init,
                 recurrent_init=recurrent_init, std=std, spectral_radius=spectral_radius, in_dim=in_dim,
                 out_dim=out_dim, input_scale=input_scale, batch_size=batch_size)
    if cell != "rnn":
        knobs[{"lstm": "forget_bias", "gru": "update_bias"}[cell]] = gate_bias
    # Drawn time-major, so x_1..x_T are the same numbers for every longer seq_len.
    # Scaled in float64, then cast: a float32 model's inputs are the float64 model's rounded.
    (steps,) = fixed_batch(seed, [(seq_len, batch_size, in_dim)], torch.float64)
    return build(cell, module, groups, (batch_size, seq_len, in_dim), (batch_size, out_dim), knobs,
                 seed=seed, dtype=dtype, inputs=(input_scale * steps.transpose(0, 1)).to(dtype))


_SHARED_DOC = """
    Parameters
    ----------
    seq_len : int
        Sequence length T (≥ 1); the loss is the MSE of the readout of h_T.
    width : int
        Hidden size (and input size unless ``in_dim`` is given).
    depth : int
        Stacked recurrent layers (groups ``"layer:0"`` …).
    activation : str
        The cell nonlinearity (tanh by default; gates are always sigmoids).
    init : str
        Init of input-to-hidden and readout weights.
    recurrent_init : str
        Init of each hidden-to-hidden gate block: "orthogonal" (default), "xavier", ...
    std : float
        Standard deviation wherever an init is "normal".
    spectral_radius : float, optional
        Rescale each recurrent gate block to this spectral radius (> 0): the asymptotic
        per-step gain of the linearized recurrence.
    in_dim, out_dim : int
    input_scale : float
        Inputs are N(0, input_scale²); small values keep the cell in its linear regime.
    batch_size, seed, dtype
        As in :func:`mlp`.

    Returns
    -------
    TorchModel
        ``params="first"`` is ∂C/∂x_1[0], the loss at step T w.r.t. the first input
        (see the module docstring).
"""


def rnn(seq_len: int, width: int = 8, depth: int = 1, activation: str = "tanh", init: str = "xavier",
        recurrent_init: str = "orthogonal", std: float = 1.0, spectral_radius: float | None = None,
        in_dim: int | None = None, out_dim: int = 1, input_scale: float = 1.0, batch_size: int = 8, seed: int = 0,
        dtype: torch.dtype = torch.float64) -> TorchModel:
    return _recurrent("rnn", seq_len, width, depth, activation, init, recurrent_init, std, spectral_radius, 0.0,
                      in_dim, out_dim, input_scale, batch_size, seed, dtype)


def lstm(seq_len: int, width: int = 8, depth: int = 1, activation: str = "tanh", init: str = "xavier",
         recurrent_init: str = "orthogonal", std: float = 1.0, spectral_radius: float | None = None,
         forget_bias: float = 1.0, in_dim: int | None = None, out_dim: int = 1, input_scale: float = 1.0,
         batch_size: int = 8, seed: int = 0, dtype: torch.dtype = torch.float64) -> TorchModel:
    return _recurrent("lstm", seq_len, width, depth, activation, init, recurrent_init, std, spectral_radius,
                      forget_bias, in_dim, out_dim, input_scale, batch_size, seed, dtype)


def gru(seq_len: int, width: int = 8, depth: int = 1, activation: str = "tanh", init: str = "xavier",
        recurrent_init: str = "orthogonal", std: float = 1.0, spectral_radius: float | None = None,
        update_bias: float = 1.0, in_dim: int | None = None, out_dim: int = 1, input_scale: float = 1.0,
        batch_size: int = 8, seed: int = 0, dtype: torch.dtype = torch.float64) -> TorchModel:
    return _recurrent("gru", seq_len, width, depth, activation, init, recurrent_init, std, spectral_radius,
                      update_bias, in_dim, out_dim, input_scale, batch_size, seed, dtype)


rnn.__doc__ = """Vanilla RNN h_t = σ(W_x x_t + W_h h_{t-1} + b), σ = tanh by default.

    Examples
    --------
    >>> list(rnn(seq_len=5, width=4).param_groups)
    ['input:0', 'layer:0', 'readout']
""" + _SHARED_DOC
lstm.__doc__ = """LSTM (gates i, f, g, o); ``forget_bias`` initializes the forget-gate bias.

    A forget gate near 1 (bias ≥ 1) lets the cell state carry step 1 across many steps:
    ∂c_T/∂c_1 = Π f_t.

    Examples
    --------
    >>> lstm(seq_len=5, width=4).describe()["forget_bias"]
    1.0
""" + _SHARED_DOC
gru.__doc__ = """GRU (gates r, z, n; h_t = (1−z)⊙n + z⊙h_{t−1}); ``update_bias`` initializes z's bias.

    Examples
    --------
    >>> gru(seq_len=5, width=4).describe()["update_bias"]
    1.0
""" + _SHARED_DOC
