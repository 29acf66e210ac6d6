"""Lyapunov spectrum of a product of matrices by QR iteration."""
from __future__ import annotations

import torch

from ..model import Model
from .checks import check_tensor
from .jacobian import layer_jacobians


def lyapunov_spectrum(mats: torch.Tensor | Model, params: torch.Tensor | None = None) -> torch.Tensor:
    """Lyapunov exponents λ_1 ≥ … ≥ λ_n of the product M_T ⋯ M_1, per step.

    QR iteration: Q_0 = I, M_t Q_{t−1} = Q_t R_t, λ_i = (1/T) Σ_t ln|R_t[i, i]|. The
    renormalization at every step keeps the product from under- or overflowing, however
    long it is.

    Parameters
    ----------
    mats : Tensor[..., T, n, n] or Model
        The matrices, in the order they are applied (leading dims are independent
        products), or a classical Model whose square layer Jacobians (forward dynamics at
        ``params``) are the matrices (see :func:`qcgrad.diagnostics.layer_jacobians`).
    params : Tensor[P], optional
        Parameter vector, when ``mats`` is a Model.

    Returns
    -------
    Tensor[..., n]
        Exponents in decreasing order.

    Examples
    --------
    >>> lyapunov_spectrum(torch.diag(torch.tensor([2.0, 0.5])).expand(10, 2, 2))
    tensor([ 0.6931, -0.6931])
    """
    if isinstance(mats, Model):
        if params is None:
            raise ValueError("params=None: a Model needs the parameter vector Tensor[n_params] to linearize at")
        jacs = [j for j in layer_jacobians(mats, params) if j.shape[-1] == j.shape[-2]]
        if not jacs:
            raise ValueError(f"{mats!r} has no square layer Jacobians to multiply")
        mats = torch.stack(jacs)
    check_tensor("mats", mats)
    if mats.dim() < 3 or mats.shape[-1] != mats.shape[-2] or mats.shape[-3] == 0:
        raise ValueError(f"mats has shape {tuple(mats.shape)}; expected Tensor[..., T, n, n] of square matrices")
    n = mats.shape[-1]
    q = torch.eye(n, dtype=mats.dtype).expand(*mats.shape[:-3], n, n)
    total = torch.zeros(*mats.shape[:-3], n, dtype=mats.dtype)
    for t in range(mats.shape[-3]):
        q, r = torch.linalg.qr(mats[..., t, :, :] @ q)
        total = total + torch.log(torch.abs(torch.diagonal(r, dim1=-2, dim2=-1)))
    return torch.sort(total / mats.shape[-3], dim=-1, descending=True).values
