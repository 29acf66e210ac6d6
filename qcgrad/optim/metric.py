"""Metrics for natural-gradient descent: the Fisher information of a classical model's
predictive distribution, the Fubini–Study metric of a circuit's state, and its mixed-state
generalisation (a quarter of the quantum Fisher information) for noisy circuits.

All are built from the per-run Jacobian of a batched output. Runs are independent (row r
of the output depends only on row r of the parameters), so the Jacobian of all runs comes
from one backward pass per output component, not one per run. For circuits whose every
parameter drives one Pauli rotation exp(∓iθP/2) the Jacobian needs no autograd at all:
∂_k|ψ⟩ = ½|ψ(θ + π e_k)⟩ exactly, so the states of all runs and all shifts come from one
batched simulation (:func:`state_jacobian`).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from ..model import Model
from .blocks import parameter_blocks

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
    does), and may set ``likelihood`` (``"gaussian"``, the default, or ``"softmax"``) and
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
    forward: Any = model.forward  # type: ignore[attr-defined]  # checked callable above
    out, jac = row_jacobian(torch.func.vmap(forward), params)
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


def state_jacobian(model: Any, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Final states and their Jacobian for all runs, ``(Tensor[n, 2**q], Tensor[n, 2**q, P])``.

    A circuit whose ansatz has ``pauli_shift`` (every parameter drives one Pauli rotation
    exp(∓iθP/2), so dU/dθ = ½U(θ + π) exactly) gets every column as half the state at θ + πe_k:
    the n·(k+1) states of all runs and all k trainable shifts are one batched
    ``model.state`` call (no autograd, no loop over runs). Other models are differentiated
    by autograd through ``model.state`` (:func:`row_jacobian`). Columns of frozen
    parameters are zero.

    Examples
    --------
    >>> import qcgrad as qg
    >>> qc = qg.quantum.circuit("tensor_product", n_qubits=1, cost="local")
    >>> psi, jac = state_jacobian(qc, torch.zeros(1, 1))
    >>> jac[0, :, 0].imag.tolist(), jac[0, :, 0].real.abs().max().item() < 1e-15  # d/dθ RX(θ)|0⟩ = −i/2 |1⟩ at 0
    ([0.0, -0.5], True)
    """
    if not _shift_exact(model):
        return row_jacobian(model.state, params)
    params = params.detach().to(torch.float64)  # θ + π in float32 would be off by ~1e-7
    idx = torch.nonzero(model.trainable)[:, 0].to(params.device)
    shifts = torch.zeros(len(idx) + 1, model.n_params, dtype=params.dtype, device=params.device)
    shifts[1 + torch.arange(len(idx), device=params.device), idx] = math.pi
    with torch.no_grad():
        states = model.state((params[None] + shifts[:, None]).reshape(-1, model.n_params))
    states = states.reshape(len(idx) + 1, params.shape[0], -1)
    jac = states.new_zeros(params.shape[0], states.shape[-1], model.n_params)
    jac[:, :, idx] = 0.5 * states[1:].permute(1, 2, 0)
    return states[0], jac


def fubini_study_metric(model: Any, params: torch.Tensor, approx: str = "full") -> torch.Tensor:
    """Fubini–Study metric tensor of a circuit's (pure) state, per run.

    g_ij = Re[⟨∂_iψ|∂_jψ⟩ − ⟨∂_iψ|ψ⟩⟨ψ|∂_jψ⟩], the quantum geometric tensor's real part, in
    the same convention as ``qml.metric_tensor`` (for a gate exp(−iθG/2) the diagonal entry
    is ¼ Var(G)). ``"block-diag"`` keeps the entries inside the blocks of
    :func:`qcgrad.optim.parameter_blocks`: for a circuit whose every parameter drives
    one gate these are PennyLane's parametrized layers, so the result equals
    ``qml.metric_tensor(..., approx="block-diag")``; ``"diag"`` keeps the diagonal. All three
    come from one Jacobian of the state (:func:`state_jacobian`) for all runs at once.

    The model must provide ``state(params) -> Tensor[n, 2**n_qubits]``: for circuits whose
    parameters drive Pauli rotations any ``state`` works, otherwise it must be differentiable
    by torch autograd. A noisy circuit (``model.noise`` set) has a mixed state: use
    :func:`mixed_state_metric`.

    Parameters
    ----------
    model : Model
    params : Tensor[n, P]
    approx : {"full", "block-diag", "diag"}

    Returns
    -------
    Tensor[n, P, P]

    Examples
    --------
    >>> import qcgrad as qg
    >>> qc = qg.quantum.circuit("tensor_product", n_qubits=2)
    >>> fubini_study_metric(qc, torch.zeros(1, 2))  # ¼ Var(X) on |0⟩ for each RX
    tensor([[[0.2500, 0.0000],
             [0.0000, 0.2500]]], dtype=torch.float64)
    """
    _check_approx(approx)
    if not callable(getattr(model, "state", None)):
        raise TypeError(f"qng needs a circuit model with state(params) -> Tensor[n, 2**n_qubits]; "
                        f"{type(model).__name__} has none (use 'natural_gradient' for classical models)")
    if getattr(model, "noise", None) is not None:
        raise ValueError(f"model has noise={model.noise!r}: its state is mixed and has no Fubini–Study metric; "
                         f"use mixed_state_metric (¼ of the quantum Fisher information of its density matrix)")
    psi, jac = state_jacobian(model, params)
    overlap = torch.einsum("nm,nmp->np", psi.reshape(psi.shape[0], -1).conj(), jac)  # ⟨ψ|∂_pψ⟩
    metric = (torch.einsum("nmp,nmq->npq", jac.conj(), jac)
              - overlap.conj()[:, :, None] * overlap[:, None, :]).real
    return metric * _approx_mask(model, approx, metric.dtype).to(metric.device)


def mixed_state_metric(model: Any, params: torch.Tensor, approx: str = "full") -> torch.Tensor:
    """¼ of the quantum Fisher information of a noisy circuit's density matrix, per run.

    With :math:`ρ = Σ_k λ_k |k⟩⟨k|`, the (symmetric logarithmic derivative) quantum Fisher information
    is :math:`F_{ij} = 2 Σ_{k,l: λ_k+λ_l>0} Re(⟨k|∂_iρ|l⟩⟨l|∂_jρ|k⟩)/(λ_k+λ_l)` (Braunstein & Caves 1994;
    Liu et al. 2020, J. Phys. A 53, 023001). For a pure state F/4 is the Fubini–Study metric,
    so this is the metric quantum natural gradient uses on noisy circuits (Koczor & Benjamin
    2022). Pairs with λ_k + λ_l below 1000·eps of the dtype are left out (a rank change makes
    the QFI discontinuous there). ``approx`` masks as in :func:`fubini_study_metric`.

    ∂_iρ comes from the density-matrix mode (:mod:`qcgrad.quantum.density`) on the model's
    noisy operations: by the two-term shift rule [ρ(θ + π/2 e_i) − ρ(θ − π/2 e_i)]/2 (exact for
    Pauli rotations, whatever channels follow) in one batched simulation, otherwise by
    autograd.

    Parameters
    ----------
    model : CircuitModel
        A circuit with ``noise`` set (``qcgrad.quantum.circuit(..., noise=...)``).
    params : Tensor[n, P]
    approx : {"full", "block-diag", "diag"}

    Returns
    -------
    Tensor[n, P, P]

    Examples
    --------
    >>> import qcgrad as qg
    >>> qc = qg.quantum.circuit("tensor_product", n_qubits=1, cost="local", noise="depolarizing:0.3")
    >>> g = mixed_state_metric(qc, torch.zeros(1, 1))  # Bloch length r = 1 − 4p/3: g = r²/4
    >>> round(g.item(), 12), round((1 - 4 * 0.3 / 3) ** 2 / 4, 12)
    (0.09, 0.09)
    """
    _check_approx(approx)
    if getattr(model, "noise", None) is None or not hasattr(model, "ansatz"):
        raise TypeError(f"mixed_state_metric needs a noisy circuit (qcgrad.quantum.circuit(..., noise=...)); "
                        f"got {type(model).__name__} without noise (use fubini_study_metric)")
    rho, drho = _density_jacobian(model, params)
    lam, vec = torch.linalg.eigh(rho)
    d = vec.mH[:, None] @ drho @ vec[:, None]  # ⟨k|∂_iρ|l⟩: [n, P, D, D]
    den = lam[:, :, None] + lam[:, None, :]
    cut = 1e3 * torch.finfo(lam.dtype).eps
    weight = torch.where(den > cut, 0.5 / den.clamp_min(cut), 0.0)  # F/4 = Σ ½|D_kl|²/(λ_k+λ_l)
    metric = torch.einsum("npkl,nqkl,nkl->npq", d, d.conj(), weight.to(d.dtype)).real
    return metric * _approx_mask(model, approx, metric.dtype).to(metric.device)


def _density_jacobian(model: Any, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """ρ(θ) ``[n, D, D]`` and ∂ρ ``[n, P, D, D]`` of a noisy circuit, batched over runs and shifts."""
    import pennylane as qml

    from ..quantum import density, noise

    qfunc = noise.with_noise(model.ansatz.qfunc, model.noise)
    depth = model.ansatz.fixed_layers or model.n_layers

    def rho_of(p: torch.Tensor) -> torch.Tensor:
        with qml.queuing.AnnotatedQueue() as queue:
            qfunc(p, model.wires, depth)
        return density.simulate(list(queue.queue), model.wires, p.shape[0], model.dtype, p.device)

    n = params.shape[0]
    if not model.ansatz.pauli_shift:
        rho, jac = row_jacobian(rho_of, params)  # [n, D·D, P]
        return rho, jac.movedim(-1, 1).reshape(n, model.n_params, *rho.shape[1:])
    params = params.detach().to(torch.float64)
    idx = torch.nonzero(model.trainable)[:, 0].to(params.device)
    k = len(idx)
    shifts = torch.zeros(2 * k + 1, model.n_params, dtype=params.dtype, device=params.device)
    rows = torch.arange(k, device=params.device)
    shifts[1 + rows, idx] = math.pi / 2
    shifts[1 + k + rows, idx] = -math.pi / 2
    with torch.no_grad():
        rho = rho_of((params[None] + shifts[:, None]).reshape(-1, model.n_params))
    rho = rho.reshape(2 * k + 1, n, *rho.shape[1:])
    drho = rho.new_zeros(n, model.n_params, *rho.shape[2:])
    drho[:, idx] = 0.5 * (rho[1: k + 1] - rho[k + 1:]).movedim(0, 1)
    return rho[0], drho


def qng_metric(model: Any, params: torch.Tensor, approx: str = "block-diag") -> torch.Tensor:
    """The metric quantum natural gradient preconditions with, per run.

    :func:`fubini_study_metric` for a noiseless circuit, :func:`mixed_state_metric` (¼ QFI of
    the density matrix) for a noisy one: never the noiseless metric of a noisy circuit.
    """
    if getattr(model, "noise", None) is not None:
        return mixed_state_metric(model, params, approx)
    return fubini_study_metric(model, params, approx)


def _shift_exact(model: Model) -> bool:
    """Whether ∂_kψ = ½ψ(θ + πe_k) holds for every parameter of ``model``."""
    ansatz = getattr(model, "ansatz", None)
    return bool(getattr(ansatz, "pauli_shift", False)) and getattr(model, "noise", None) is None


def _check_approx(approx: str) -> None:
    if approx not in METRIC_APPROX:
        raise ValueError(f"approx={approx!r} is not allowed; use one of {METRIC_APPROX}")


def _approx_mask(model: Model, approx: str, dtype: torch.dtype) -> torch.Tensor:
    """Which metric entries an approximation keeps: all, same-block pairs, or the diagonal."""
    if approx == "full":
        return torch.ones(model.n_params, model.n_params, dtype=dtype)
    if approx == "diag":
        return torch.eye(model.n_params, dtype=dtype)
    block = parameter_blocks(model)
    return ((block[:, None] == block[None, :]) & (block[:, None] >= 0)).to(dtype)
