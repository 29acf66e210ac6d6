"""Per-layer gradient profiles from one gradient pass, for nets and circuits alike.

One call draws the gradients of every trainable parameter once, then reduces them group by
group (``model.param_groups``; frozen structure groups are skipped), so a profile through
depth costs one gradient computation whatever the number of layers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import numpy as np
import torch

from .gradients import ParamSpec, per_sample_gradients, resolve_params
from .model import Model
from .stats import (
    check_method,
    choose_method,
    column_moments,
    dead_partials,
    finite_rows,
    gradient_variance,
    with_point_warnings,
)
from .validation import check_int, check_model


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
        zero by construction: the same number as ``gradient_variance(model, params=group)``
        for the same seed and sample count.
    mean_square : list[float]
        E[(∂C/∂θ)²], averaged over the same partials.
    zero_fraction : list[float]
        Fraction of zero entries over all samples and all partials of the group: exact zeros,
        and every entry of a zero-by-construction partial (rounding noise included)
        (with ``method="paths"``: the fraction of partials that are zero by construction,
        the infinite-sample value).
    n_partials : list[int]
        Partials per group.
    zero_partials : list[int]
        Partials that are zero in every sample: zero by construction (structure, or below
        the model's gradient tolerance) or vanished (exactly 0 without a structural reason).
    vanished_partials : list[int]
        Those of ``zero_partials`` that vanished numerically (underflow or saturation); they
        stay in the averages, the zero-by-construction ones do not.
    method : {"sample", "paths"}
        How the variances were obtained.
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
    vanished_partials: list[int] = field(default_factory=list)
    method: str = "sample"

    def records(self) -> list[dict[str, Any]]:
        """One dict per group: group, variance, mean_square, zero_fraction, n_partials, zero_partials,
        vanished_partials, method."""
        return [{"group": g, "variance": v, "mean_square": m, "zero_fraction": z, "n_partials": n,
                 "zero_partials": zp, "vanished_partials": vp, "method": self.method}
                for g, v, m, z, n, zp, vp in zip(self.groups, self.variance, self.mean_square,
                                                 self.zero_fraction, self.n_partials, self.zero_partials,
                                                 self.vanished_partials, strict=True)]


_FIELDS = ("variance", "mean_square", "zero_fraction", "n_partials", "zero_partials", "vanished_partials")


def _group_stats(g: np.ndarray, zero: np.ndarray, vanished: np.ndarray) -> dict[str, Any]:
    """Statistics of one group's gradients ``g[S, k]`` (the same reductions as :func:`summarize`)."""
    live = g[:, ~zero]
    if live.shape[1]:
        var, _, scale = column_moments(live)
        top = float(scale.max())
        variance = float((var * (scale / top) ** 2).mean()) * top * top
        mean_square = float(((live / top) ** 2).mean()) * top * top
    else:
        variance = mean_square = 0.0
    return {"variance": variance, "mean_square": mean_square,
            "zero_fraction": zero_fraction(torch.from_numpy(np.where(zero, 0.0, g))), "n_partials": g.shape[1],
            "zero_partials": int(zero.sum() + vanished.sum()), "vanished_partials": int(vanished.sum())}


def _selected_groups(model: Model, selected: torch.Tensor) -> dict[str, list[int]]:
    """Non-frozen groups with the selected indices in each, in the model's order (empty ones left out)."""
    chosen = set(selected.tolist())
    groups = {}
    for name, part in model.param_groups.items():
        members = [i for i in range(model.n_params)[part] if i in chosen]
        if name not in model.frozen and members:
            groups[name] = members
    return groups


def _paths_profile(model: Model, groups: dict[str, list[int]], seed: int, n_paths: int | None) -> dict[str, Any]:
    stats: dict[str, Any] = {key: [] for key in _FIELDS}
    for name, members in groups.items():
        whole = members == list(range(model.n_params))[model.param_groups[name]]
        est = with_point_warnings(f"group {name}", partial(
            gradient_variance, model, params=name if whole else members, seed=seed, method="paths",
            n_paths=n_paths))
        n = len(est.indices)
        row = {"variance": est.variance, "mean_square": est.variance + est.mean**2,
               "zero_fraction": len(est.zero_by_construction) / n, "n_partials": n,
               "zero_partials": len(est.zero_by_construction), "vanished_partials": 0}
        for key, value in row.items():
            stats[key].append(value)
    return stats


def layer_profile(
    model: Model,
    n_samples: int = 200,
    seed: int = 0,
    chunk_size: int | None = None,
    *,
    params: ParamSpec = "all",
    method: Literal["sample", "paths", "auto"] = "sample",
    n_paths: int | None = None,
) -> LayerProfile:
    """Variance, mean squared gradient and zero fraction for every parameter group, in one pass.

    Parameters
    ----------
    model : Model
        Any model: its ``param_groups`` define the layers; frozen groups are skipped.
    n_samples : int
        Init samples (≥ 2).
    seed : int
        Seed (an int ≥ 0) of the sample stream (as in :func:`qcgrad.gradient_variance`).
    chunk_size : int, optional
        Samples per gradient call (memory).
    params : ParamSpec
        Which partials to profile, in any form :func:`qcgrad.resolve_params` takes (default
        all); each group reports the selected partials inside it, groups without any are left
        out.
    method : {"sample", "paths", "auto"}
        As in :func:`qcgrad.gradient_variance`; "paths" evaluates each group by Pauli-path
        propagation (one call per group).
    n_paths : int, optional
        Paths for path Monte Carlo.

    Returns
    -------
    LayerProfile

    Examples
    --------
    >>> import qcgrad as qg
    >>> prof = layer_profile(qg.classical.mlp(depth=3, width=4), n_samples=10)
    >>> prof.groups
    ['layer:0', 'layer:1', 'layer:2']
    >>> layer_profile(qg.classical.mlp(depth=3, width=4), n_samples=10, params=[0, 1, 30]).n_partials
    [2, 1]
    """
    check_model(model)
    check_int(2, n_samples=n_samples)
    check_int(0, seed=seed)
    if chunk_size is not None:
        check_int(1, chunk_size=chunk_size)
    check_method(method, n_paths)
    selected = resolve_params(model, params)
    groups = _selected_groups(model, selected)
    if choose_method(model, method) == "paths":
        return LayerProfile(groups=list(groups), n_samples=0, seed=seed, model=model.describe(), method="paths",
                            **_paths_profile(model, groups, seed, n_paths))
    grads = per_sample_gradients(model, n_samples, seed, selected, chunk_size=chunk_size)
    grads_np = grads.to(torch.float64).numpy()
    finite_rows(grads_np)  # NaN/inf: one clear error, never a NaN in the profile
    column = {int(i): c for c, i in enumerate(selected)}
    zero, vanished = dead_partials(grads_np, selected.tolist(), model.structural_zeros(), model.gradient_tolerance())
    stats: dict[str, Any] = {key: [] for key in _FIELDS}
    for members in groups.values():
        cols = np.array([column[i] for i in members])
        for key, value in _group_stats(grads_np[:, cols], zero[cols], vanished[cols]).items():
            stats[key].append(value)
    return LayerProfile(groups=list(groups), n_samples=n_samples, seed=seed, model=model.describe(), **stats)
