"""Metrics for natural-gradient descent: the Fisher information of a classical model's
predictive distribution and the Fubini–Study metric of a circuit's state.

Both are built from the per-run Jacobian of a batched output. Runs are independent (row r
of the output depends only on row r of the parameters), so the Jacobian of all runs comes
from one backward pass per output component, not one per run.
"""
from __future__ import annotations

from typing import Callable

import torch

from ..model import Model

#: Output distributions whose Fisher information is exact in :func:`fisher_metric`.
LIKELIHOODS = ("gaussian", "softmax")
#: Approximations of the Fubini–Study metric accepted by :func:`fubini_study_metric`.
METRIC_APPROX = ("full", "block-diag", "diag")


def row_jacobian(fn: Callable[[torch.Tensor], torch.Tensor], params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Value and per-row Jacobian of a row-independent batched function.

    Parameters
    ----------
    fn : callable
        ``Tensor[n, P] -> Tensor[n, ...]`` where output row r depends only on input row r.
        A complex output is differentiated through its real and imaginary parts.
    params : Tensor[n, P]

    Returns
    -------
    value : Tensor[n, ...]
        The output of ``fn``, detached; M is the number of entries of one row.
    jacobian : Tensor[n, M, P]

    Examples
    --------
    >>> v, j = row_jacobian(lambda p: p**2, torch.tensor([[1.0, 2.0]]))
    >>> j
    tensor([[[2., 0.],
             [0., 4.]]])
    """
    with torch.enable_grad():  # optimizers call this inside their no-grad step
        p = params.detach().requires_grad_(True)
        value = fn(p)
        out = value.reshape(p.shape[0], -1)
        parts = torch.view_as_real(out).reshape(p.shape[0], -1) if out.is_complex() else out
        cols = [torch.autograd.grad(parts[:, m].sum(), p, retain_graph=True, allow_unused=True)[0]
                for m in range(parts.shape[1])]
    jac = torch.stack([torch.zeros_like(p) if c is None else c for c in cols], dim=1)
    if out.is_complex():
        jac = torch.complex(jac[:, 0::2], jac[:, 1::2])
    return value.detach(), jac


def fisher_metric(model: Model, params: torch.Tensor) -> torch.Tensor:
    """Fisher information of a classical model's predictive distribution, per run.

    F = (1/B) Σ_b J_bᵀ H_b J_b with J_b the Jacobian of the model's outputs on data point b
    and H_b the Fisher of the output distribution in its natural coordinates: I/σ² for a
    Gaussian with mean = output and variance ``model.noise_var`` (default 1), and
    diag(p) − ppᵀ for a softmax over the output logits. Both are exact.

    The model must provide ``forward(theta: Tensor[P]) -> Tensor[B, k]``, its outputs on
    its own data batch for one parameter vector (as :class:`qcgrad.classical.TorchModel`
    does), and may set ``likelihood`` (one of :data:`LIKELIHOODS`, default "gaussian") and
    ``noise_var``.

    Parameters
    ----------
    model : Model
    params : Tensor[n, P]

    Returns
    -------
    Tensor[n, P, P]
    """
    if not callable(getattr(model, "forward", None)):
        raise TypeError(f"natural_gradient needs a model with forward(theta) -> Tensor[B, k]; "
                        f"{type(model).__name__} has none (use 'qng' for circuits)")
    likelihood = getattr(model, "likelihood", "gaussian")
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"likelihood={likelihood!r} is not allowed; use one of {LIKELIHOODS}")
    out, jac = row_jacobian(torch.func.vmap(model.forward), params)
    n = params.shape[0]
    k = out.shape[-1] if out.dim() >= 3 else 1  # a scalar output per data point is k = 1
    out = out.reshape(n, -1, k)
    b = out.shape[1]
    jac = jac.reshape(n, b, k, -1)
    if likelihood == "gaussian":
        return torch.einsum("nbkp,nbkq->npq", jac, jac) / (b * getattr(model, "noise_var", 1.0))
    prob = torch.softmax(out, dim=-1)
    hess = torch.diag_embed(prob) - prob[..., :, None] * prob[..., None, :]
    return torch.einsum("nbkp,nbkl,nblq->npq", jac, hess, jac) / b


def fubini_study_metric(model: Model, params: torch.Tensor, approx: str = "full") -> torch.Tensor:
    """Fubini–Study metric tensor of a circuit's state, per run.

    g_ij = Re[⟨∂_iψ|∂_jψ⟩ − ⟨∂_iψ|ψ⟩⟨ψ|∂_jψ⟩], the quantum geometric tensor's real part, in
    the same convention as ``qml.metric_tensor`` (for a gate exp(−iθG/2) the diagonal entry
    is ¼ Var(G)). ``"block-diag"`` keeps the blocks of the model's ``param_groups`` (equal
    to PennyLane's block-diagonal approximation when each group is one layer of commuting
    gates); ``"diag"`` keeps the diagonal.

    The model must provide ``state(params) -> Tensor[n, 2**n_qubits]`` differentiable by
    torch autograd.

    Parameters
    ----------
    model : Model
    params : Tensor[n, P]
    approx : {"full", "block-diag", "diag"}

    Returns
    -------
    Tensor[n, P, P]
    """
    if approx not in METRIC_APPROX:
        raise ValueError(f"approx={approx!r} is not allowed; use one of {METRIC_APPROX}")
    if not callable(getattr(model, "state", None)):
        raise TypeError(f"qng needs a circuit model with state(params) -> Tensor[n, 2**n_qubits]; "
                        f"{type(model).__name__} has none (use 'natural_gradient' for classical models)")
    psi, jac = row_jacobian(model.state, params)
    overlap = torch.einsum("nm,nmp->np", psi.reshape(psi.shape[0], -1).conj(), jac)  # ⟨ψ|∂_pψ⟩
    metric = (torch.einsum("nmp,nmq->npq", jac.conj(), jac)
              - overlap.conj()[:, :, None] * overlap[:, None, :]).real
    return metric * _approx_mask(model, approx, metric.dtype)


def _approx_mask(model: Model, approx: str, dtype: torch.dtype) -> torch.Tensor:
    """Which metric entries an approximation keeps: all, same-group pairs, or the diagonal."""
    if approx == "full":
        return torch.ones(model.n_params, model.n_params, dtype=dtype)
    if approx == "diag":
        return torch.eye(model.n_params, dtype=dtype)
    group = torch.full((model.n_params,), -1)
    for g, sl in enumerate(model.param_groups.values()):
        group[sl] = g
    return ((group[:, None] == group[None, :]) & (group[:, None] >= 0)).to(dtype)
