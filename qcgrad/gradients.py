"""Which partial derivatives, and the per-sample gradients themselves."""
from __future__ import annotations

from typing import Union

import torch

from .model import Model
from .seeding import sample_block

#: What ``params=`` accepts: "first", "all", an int index, or a group name such as "layer:0".
ParamSpec = Union[str, int]


def resolve_params(model: Model, spec: ParamSpec) -> torch.Tensor:
    """Indices of the partial derivatives that ``spec`` selects.

    Parameters
    ----------
    model : Model
    spec : {"first", "all"} or int or str
        ``"first"``: the first trainable parameter; ``"all"``: every trainable parameter;
        an int: that index; any other string: a name in ``model.param_groups``.

    Returns
    -------
    Tensor[k] of int64

    Examples
    --------
    >>> import qcgrad as qg
    >>> net = qg.classical.mlp(depth=3, width=4)
    >>> resolve_params(net, "first").tolist()
    [0]
    """
    trainable = model.trainable
    if isinstance(spec, bool):  # bool is an int subclass; True is never a meaningful index
        raise TypeError(f"params={spec!r} is not allowed; use 'first', 'all', an int or a group name")
    if isinstance(spec, int):
        if not -model.n_params <= spec < model.n_params:
            raise ValueError(f"params={spec} is out of range for a model with n_params={model.n_params}")
        index = spec % model.n_params
        if not trainable[index]:
            raise ValueError(f"params={spec} is a frozen (structure) entry; groups {model.frozen} are not trainable")
        return torch.tensor([index])
    if spec == "first":
        return torch.nonzero(trainable)[:1, 0]
    if spec == "all":
        return torch.nonzero(trainable)[:, 0]
    if isinstance(spec, str) and spec in model.param_groups:
        if spec in model.frozen:
            raise ValueError(f"params={spec!r} is a frozen (structure) group, not trainable")
        return torch.arange(model.n_params)[model.param_groups[spec]]
    groups = ", ".join(g for g in model.param_groups if g not in model.frozen)
    raise ValueError(f"params={spec!r} is not allowed; use 'first', 'all', an int index or one of the groups: {groups}")


def per_sample_gradients(
    model: Model,
    n_samples: int,
    seed: int,
    params: ParamSpec = "first",
    start: int = 0,
    chunk_size: int | None = None,
) -> torch.Tensor:
    """Gradients of samples ``start .. start+n_samples-1`` of the seeded init stream.

    Parameters
    ----------
    model : Model
    n_samples : int
    seed : int
        Seed of the sample stream (see :func:`qcgrad.seeding.sample_block`).
    params : ParamSpec
        Which partial derivatives (see :func:`resolve_params`).
    start : int
        Index of the first sample; lets adaptive estimators extend a run.
    chunk_size : int, optional
        Samples per call of ``model.grad``; all at once when omitted.

    Returns
    -------
    Tensor[n_samples, k]
    """
    indices = resolve_params(model, params)
    step = chunk_size or n_samples
    chunks = []
    for lo in range(start, start + n_samples, step):
        hi = min(lo + step, start + n_samples)
        theta = sample_block(model, seed, lo, hi)
        chunks.append(model.grad(theta, indices).detach())
    return torch.cat(chunks)
