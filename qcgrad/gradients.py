"""Which partial derivatives, and the per-sample gradients themselves."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from .model import Model
from .seeding import sample_block
from .validation import check_int

#: What ``params=`` accepts: "first", "all", an int index, a group name such as "layer:0", a
#: list/tuple/tensor of indices, a list of group names, a slice, a boolean mask over the
#: parameter vector, or a callable ``model -> any of these``.
ParamSpec = str | int | slice | Sequence[int | str] | torch.Tensor | np.ndarray | Callable[[Model], Any]

_FORMS = ("'first', 'all', an int index, a group name, a list of indices or group names, a slice, "
          "a boolean mask over the parameter vector, or a callable model -> indices")


def _index(model: Model, i: int, spec: Any) -> int:
    """One index, checked against the range and the frozen groups, made non-negative."""
    n = model.n_params
    if not -n <= i < n:
        raise ValueError(f"params={spec!r}: index {i} is out of range; indices run from 0 to {n - 1} "
                         f"(or -{n} to -1 from the end) for a model with n_params={n}")
    return i % n


def _group(model: Model, name: str) -> list[int]:
    if name not in model.param_groups:
        groups = ", ".join(g for g in model.param_groups if g not in model.frozen)
        raise ValueError(f"params={name!r} is not allowed; use {_FORMS}. The groups are: {groups}")
    return list(range(model.n_params))[model.param_groups[name]]


def _mask(model: Model, mask: Any, spec: Any) -> list[int]:
    mask = torch.as_tensor(mask, dtype=torch.bool).reshape(-1)
    if mask.numel() != model.n_params:
        raise ValueError(f"params: a boolean mask must have n_params={model.n_params} entries; got {mask.numel()}")
    return torch.nonzero(mask)[:, 0].tolist()


def _select(model: Model, spec: Any, top: bool = True) -> list[int]:
    """Indices that ``spec`` selects, in the order given (not yet checked for frozen entries)."""
    if isinstance(spec, (bool, np.bool_)):  # an int subclass; True is never a meaningful index
        raise TypeError(f"params={spec!r} is not allowed; use {_FORMS}")
    if isinstance(spec, (int, np.integer)):
        return [_index(model, int(spec), spec)]
    if isinstance(spec, str):
        if spec == "first" and top:
            return torch.nonzero(model.trainable)[:1, 0].tolist()
        if spec == "all" and top:
            return torch.nonzero(model.trainable)[:, 0].tolist()
        return _group(model, spec)
    if isinstance(spec, slice):
        return list(range(model.n_params))[spec]
    if isinstance(spec, (torch.Tensor, np.ndarray)):
        array = spec.detach().cpu().numpy() if isinstance(spec, torch.Tensor) else spec
        if array.dtype == bool:
            return _mask(model, array, spec)
        if not np.issubdtype(array.dtype, np.integer):
            raise TypeError(f"params: a tensor of indices must have an integer or bool dtype; got {array.dtype}")
        return [_index(model, int(i), int(i)) for i in array.reshape(-1)]
    if isinstance(spec, (list, tuple)):
        if spec and all(isinstance(b, (bool, np.bool_)) for b in spec):
            return _mask(model, list(spec), spec)
        return [i for item in spec for i in _select(model, item, top=False)]
    if callable(spec) and top:
        return _select(model, spec(model), top=False)
    raise TypeError(f"params={spec!r} is not allowed; use {_FORMS}")


def resolve_params(model: Model, spec: ParamSpec) -> torch.Tensor:
    """Indices of the partial derivatives that ``spec`` selects.

    Parameters
    ----------
    model : Model
    spec : ParamSpec
        ``"first"``: the first trainable parameter; ``"all"``: every trainable parameter;
        an int: that index (negative counts from the end); a string: a name in
        ``model.param_groups``; a list/tuple/int tensor of indices or group names (their
        union, in the order given); a slice of the parameter vector; a boolean mask of
        length ``n_params``; a callable ``model -> any of these``. Selecting a frozen
        (structure) entry, an index out of range, the same entry twice or nothing at all
        raises ValueError.

    Returns
    -------
    Tensor[k] of int64

    Examples
    --------
    >>> import qcgrad as qg
    >>> net = qg.classical.mlp(depth=3, width=4)
    >>> resolve_params(net, "first").tolist()
    [0]
    >>> resolve_params(net, [0, 5, -1]).tolist() == [0, 5, net.n_params - 1]
    True
    >>> resolve_params(net, slice(2, 4)).tolist()
    [2, 3]
    """
    indices = _select(model, spec)
    if not indices:
        raise ValueError(f"params={spec!r} selects no parameters; use {_FORMS}")
    if len(set(indices)) != len(indices):
        twice = sorted({i for i in indices if indices.count(i) > 1})
        raise ValueError(f"params={spec!r} selects indices {twice} more than once; each partial may appear once")
    trainable = model.trainable
    frozen = [i for i in indices if not trainable[i]]
    if frozen:
        raise ValueError(f"params={spec!r} selects frozen (structure) entries {frozen[:10]}; the groups "
                         f"{', '.join(model.frozen)} are not trainable")
    return torch.tensor(indices, dtype=torch.int64)


def parse_params(text: str) -> ParamSpec:
    """The ``params`` spec written as text (command line, config files).

    ``first``, ``all``, an int (``5``, ``-1``), a group (``layer:0``), a slice of indices
    (``0:8``, ``:4``, ``10:20:2``), or a comma-separated list of ints and groups
    (``0,1,5``, ``layer:0,layer:3``).

    Examples
    --------
    >>> parse_params("0,1,5"), parse_params("layer:0,layer:3"), parse_params("2:6"), parse_params("-1")
    ([0, 1, 5], ['layer:0', 'layer:3'], slice(2, 6, None), -1)
    """
    text = text.strip()
    if not text:
        raise ValueError("params='' is empty; use first, all, an index, a group, a slice like 0:8 or a list like 0,1,5")
    if "," in text:
        items = [item.strip() for item in text.split(",")]
        if not all(items):
            raise ValueError(f"params={text!r} has an empty item; write a list as 0,1,5 or layer:0,layer:3")
        return [_atom(item) for item in items]
    parts = text.split(":")
    if len(parts) in (2, 3) and all(_is_int(p) or not p for p in parts):
        return slice(*(int(p) if p else None for p in parts))
    return _atom(text)


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()


def _atom(text: str) -> int | str:
    return int(text) if _is_int(text) else text


def params_label(spec: ParamSpec) -> str | int | list[int | str]:
    """JSON-ready form of a params spec, for records (a slice as ``"2:6"``, a tensor as a list).

    Examples
    --------
    >>> params_label(slice(2, 6)), params_label(torch.tensor([1, 3])), params_label("layer:0")
    ('2:6', [1, 3], 'layer:0')
    """
    if isinstance(spec, (str, int)) and not isinstance(spec, bool):
        return spec
    if isinstance(spec, slice):
        parts = (spec.start, spec.stop) if spec.step is None else (spec.start, spec.stop, spec.step)
        return ":".join("" if v is None else str(v) for v in parts)
    if isinstance(spec, (torch.Tensor, np.ndarray)):
        return np.asarray(spec.tolist()).reshape(-1).tolist()
    if isinstance(spec, (list, tuple)):
        return [x if isinstance(x, str) else (bool(x) if isinstance(x, (bool, np.bool_)) else int(x)) for x in spec]
    return getattr(spec, "__name__", repr(spec))


def per_sample_gradients(
    model: Model,
    n_samples: int,
    seed: int,
    params: ParamSpec = "first",
    start: int = 0,
    chunk_size: int | None = None,
) -> torch.Tensor:
    """Gradients of samples ``start`` to ``start + n_samples - 1`` of the seeded init stream.

    Parameters
    ----------
    model : Model
    n_samples : int
    seed : int
        Seed of the sample stream (``qcgrad.seeding.sample_block``).
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
    check_int(1, n_samples=n_samples)
    check_int(0, seed=seed, start=start)
    if chunk_size is not None:
        check_int(1, chunk_size=chunk_size)
    indices = resolve_params(model, params)
    step = chunk_size or n_samples
    chunks = []
    for lo in range(start, start + n_samples, step):
        hi = min(lo + step, start + n_samples)
        theta = sample_block(model, seed, lo, hi)
        chunks.append(model.grad(theta, indices).detach())
    return torch.cat(chunks)
