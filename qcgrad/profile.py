"""Per-layer gradient profiles from one gradient pass, for nets and circuits alike.

One call draws the gradients of every trainable parameter once, then reduces them group by
group (``model.param_groups``; frozen structure groups are skipped), so a profile through
depth costs one gradient computation whatever the number of layers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from .gradients import per_sample_gradients, resolve_params
from .model import Model


def zero_fraction(grads: torch.Tensor) -> float:
    """Fraction of gradient entries that are exactly 0 (dead ReLUs, underflow, structure).

    Parameters
    ----------
    grads : Tensor[n_samples, k]

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> zero_fraction(torch.tensor([[0.0, 1.0], [0.0, -2.0]]))
    0.5
    """
    if grads.numel() == 0:
        raise ValueError("grads is empty; zero_fraction needs at least one entry")
    return float((grads == 0).sum()) / grads.numel()


@dataclass
class LayerProfile:
    """Gradient statistics per parameter group.

    Attributes
    ----------
    groups : list[str]
        Group names, in the model's order (frozen groups left out).
    variance : list[float]
        Unbiased variance over init samples, averaged over the group's partials that are not
        zero in every sample: the same number as ``gradient_variance(model, params=group)``
        for the same seed and sample count.
    mean_square : list[float]
        E[(∂C/∂θ)²], averaged over the same partials.
    zero_fraction : list[float]
        Fraction of exactly-zero entries over all samples and all partials of the group.
    n_partials : list[int]
        Partials per group; ``zero_partials`` of them are zero in every sample.
    """

    groups: list[str]
    variance: list[float]
    mean_square: list[float]
    zero_fraction: list[float]
    n_partials: list[int]
    zero_partials: list[int]
    n_samples: int
    seed: int
    model: dict[str, Any] = field(default_factory=dict, repr=False)

    def records(self) -> list[dict[str, Any]]:
        """One dict per group: group, variance, mean_square, zero_fraction, n_partials, zero_partials."""
        return [{"group": g, "variance": v, "mean_square": m, "zero_fraction": z, "n_partials": n,
                 "zero_partials": zp}
                for g, v, m, z, n, zp in zip(self.groups, self.variance, self.mean_square, self.zero_fraction,
                                             self.n_partials, self.zero_partials)]


def layer_profile(model: Model, n_samples: int = 200, seed: int = 0, chunk_size: int | None = None) -> LayerProfile:
    """Variance, mean squared gradient and zero fraction for every parameter group, in one pass.

    Parameters
    ----------
    model : Model
        Any model: its ``param_groups`` define the layers; frozen groups are skipped.
    n_samples : int
        Init samples (≥ 2).
    seed : int
        Seed of the sample stream (as in :func:`qcgrad.gradient_variance`).
    chunk_size : int, optional
        Samples per gradient call (memory).

    Returns
    -------
    LayerProfile

    Examples
    --------
    >>> import qcgrad as qg
    >>> prof = layer_profile(qg.classical.mlp(depth=3, width=4), n_samples=10)
    >>> prof.groups
    ['layer:0', 'layer:1', 'layer:2']
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 2:
        raise ValueError(f"n_samples={n_samples!r} is not allowed; it must be an int ≥ 2")
    grads = per_sample_gradients(model, n_samples, seed, "all", chunk_size=chunk_size).to(torch.float64)
    column = torch.full((model.n_params,), -1, dtype=torch.long)
    trainable = resolve_params(model, "all")
    column[trainable] = torch.arange(len(trainable))
    groups = [g for g in model.param_groups if g not in model.frozen]
    stats: dict[str, list] = {"variance": [], "mean_square": [], "zero_fraction": [], "n_partials": [],
                              "zero_partials": []}
    for name in groups:
        g = grads[:, column[model.param_groups[name]]]
        live = g[:, (g != 0).any(dim=0)]
        stats["variance"].append(float(live.var(dim=0).mean()) if live.shape[1] else 0.0)
        stats["mean_square"].append(float((live**2).mean()) if live.shape[1] else 0.0)
        stats["zero_fraction"].append(zero_fraction(g))
        stats["n_partials"].append(g.shape[1])
        stats["zero_partials"].append(g.shape[1] - live.shape[1])
    return LayerProfile(groups=groups, n_samples=n_samples, seed=seed, model=model.describe(), **stats)
