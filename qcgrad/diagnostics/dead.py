"""Dead units: the share of gradient entries that are exactly zero, per layer."""
from __future__ import annotations

import torch

from ..model import Model
from ..profile import zero_fraction
from .checks import check_params


def dead_fraction(model: Model, params: torch.Tensor) -> dict[str, float]:
    """Per trainable group, the fraction of (sample, entry) gradient pairs that are exactly 0.

    A ReLU unit that never fires passes no gradient to its incoming weights; underflow also
    gives exact zeros (see :func:`qcgrad.diagnostics.underflow_report` to tell them apart).

    Parameters
    ----------
    model : Model
    params : Tensor[n, n_params]

    Returns
    -------
    dict[str, float]
        Group name -> :func:`qcgrad.zero_fraction` of its gradient block.
    """
    g = model.grad(check_params(model, params))
    return {k: zero_fraction(g[:, sl]) for k, sl in model.param_groups.items() if k not in model.frozen}
