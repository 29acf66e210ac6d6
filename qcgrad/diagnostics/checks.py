"""Input checks run by every diagnostic before any linear algebra.

LAPACK/MKL routines are not defined on NaN or inf (a NaN matrix has crashed the process
inside an eigenvalue routine), and a wrongly shaped parameter tensor otherwise fails deep in
a forward pass; both are refused here with the bad value named.
"""
from __future__ import annotations

import torch

from ..model import Model


def check_tensor(name: str, value: object) -> torch.Tensor:
    """``value`` if it is a tensor of finite numbers; else TypeError/ValueError naming ``name``.

    Examples
    --------
    >>> check_tensor("jacobian", torch.tensor([1.0, float("nan")]))
    Traceback (most recent call last):
    ...
    ValueError: jacobian has 1 non-finite entries (NaN or inf) of 2; diagnostics need finite numbers
    """
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if value.is_floating_point() or value.is_complex():
        bad = int((~torch.isfinite(value)).sum())
        if bad:
            raise ValueError(f"{name} has {bad} non-finite entries (NaN or inf) of {value.numel()}; "
                             "diagnostics need finite numbers")
    return value


def check_square(name: str, value: object) -> torch.Tensor:
    """A finite square matrix ``Tensor[n, n]``, or ValueError naming its shape."""
    value = check_tensor(name, value)
    if value.dim() != 2 or value.shape[0] != value.shape[1] or value.shape[0] == 0:
        raise ValueError(f"{name} has shape {tuple(value.shape)}; expected a square matrix Tensor[n, n], n ≥ 1")
    return value


def check_params(model: Model, params: object, batched: bool = True, name: str = "params") -> torch.Tensor:
    """Finite parameters of ``model``: ``Tensor[n, n_params]`` (``batched``) or ``Tensor[n_params]``."""
    params = check_tensor(name, params)
    expected = f"Tensor[n, {model.n_params}]" if batched else f"Tensor[{model.n_params}]"
    good = (params.dim() == 2 and params.shape[0] >= 1) if batched else params.dim() == 1
    if not good or params.shape[-1] != model.n_params:
        raise ValueError(f"{name} has shape {tuple(params.shape)}; expected {expected} for this model")
    return params
