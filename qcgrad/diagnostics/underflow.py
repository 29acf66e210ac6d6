"""Floating-point underflow: gradients that are exactly zero in float32 but not in float64."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..model import Model
from .checks import check_params, check_tensor


@dataclass
class UnderflowReport:
    """Where float32 loses gradient entries that float64 keeps.

    Attributes
    ----------
    fraction : float
        Share of trainable gradient entries (over all samples) that are exactly 0 in
        float32 but nonzero in float64.
    by_group : dict[str, float]
        The same per parameter group.
    zero64 : float
        Share of entries that are 0 even in float64 (zero by construction, or underflow
        in float64 too).
    """

    fraction: float
    by_group: dict[str, float]
    zero64: float


def underflow_report(model64: Model, params: torch.Tensor, model32: Model | None = None) -> UnderflowReport:
    """Compare the gradients of the same model and parameters in float32 and float64.

    An entry that is exactly 0 in float32 but not in float64 is underflow, whatever the
    reason for the zero; only what is 0 in float64 too counts in ``zero64``.

    Parameters
    ----------
    model64 : Model
        The model (its float64 version is used; classical models are cast with ``astype``).
    params : Tensor[n, n_params]
    model32 : Model, optional
        The float32 twin. When omitted: ``model64.astype(torch.float32)`` for models that
        have it (qcgrad's classical models: the same data and parameters, rounded), else
        ``model64`` evaluated at float32 parameters (a cost that follows the dtype).

    Returns
    -------
    UnderflowReport

    Examples
    --------
    >>> import qcgrad as qg
    >>> net = qg.classical.mlp(depth=3, width=8, activation="relu", init="he")
    >>> underflow_report(net, net.sample_params(torch.Generator().manual_seed(0), 4)).fraction
    0.0
    """
    params = check_params(model64, params)
    astype = getattr(model64, "astype", None)
    if astype is not None:
        model64 = astype(torch.float64)
        model32 = model32 or astype(torch.float32)
    g64 = model64.grad(params.to(torch.float64))
    g32 = (model32 or model64).grad(params.to(torch.float32))
    lost = (g32 == 0) & (g64 != 0)
    mask = model64.trainable
    groups = {k: sl for k, sl in model64.param_groups.items() if k not in model64.frozen}
    return UnderflowReport(
        fraction=lost[:, mask].double().mean().item(),
        by_group={k: lost[:, sl].double().mean().item() for k, sl in groups.items()},
        zero64=(g64[:, mask] == 0).double().mean().item(),
    )


def log_product_norm(factors: torch.Tensor, vector: torch.Tensor | None = None) -> torch.Tensor:
    """ln‖M_T ⋯ M_1 v‖ accumulated in the log domain, which no product length underflows.

    After each factor the running vector is renormalized and the log of its norm is added,
    so every stored number stays O(1) while the norm itself may be 1e-400.

    Parameters
    ----------
    factors : Tensor[T] or Tensor[T, n, n]
        Scalar factors (e.g. σ'(z_k) of a tower) or matrices (layer Jacobians).
    vector : Tensor[n], optional
        Starting vector (all-ones/√n for matrices, 1 for scalars when omitted).

    Returns
    -------
    Tensor (scalar)

    Examples
    --------
    >>> round(log_product_norm(torch.full((400,), 0.1)).item(), 2)  # 0.1**400 is 0 even in float64
    -921.03
    """
    check_tensor("factors", factors)
    if vector is not None:
        check_tensor("vector", vector)
    if factors.dim() == 1:
        start = torch.ones((), dtype=factors.dtype) if vector is None else vector
        return torch.log(start.abs()) + torch.log(factors.abs()).sum()
    if factors.dim() != 3 or factors.shape[-1] != factors.shape[-2]:
        raise ValueError(f"factors has shape {tuple(factors.shape)}; expected Tensor[T] or Tensor[T, n, n]")
    n = factors.shape[-1]
    if vector is not None and vector.shape != (n,):
        raise ValueError(f"vector has shape {tuple(vector.shape)}; expected Tensor[{n}] for these factors")
    v = torch.full((n,), n**-0.5, dtype=factors.dtype) if vector is None else vector
    log_norm = torch.log(torch.linalg.vector_norm(v))
    v = v / torch.linalg.vector_norm(v)
    for m in factors:
        v = m @ v
        s = torch.linalg.vector_norm(v)
        log_norm = log_norm + torch.log(s)
        v = v / s
    return log_norm
