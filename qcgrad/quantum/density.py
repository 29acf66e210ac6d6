"""Batched density-matrix mode: S mixed states ρ as ``Tensor[S, 2^n, 2^n]`` in torch.

Every operation acts as a superoperator on ρ viewed as a tensor with n row axes and n column
axes: a gate U on wires w is U ⊗ U* on (row w, column w), a channel with Kraus operators
{K} is Σ K ⊗ K*. Consecutive single-qubit operations on a wire (a rotation and the noise
after it) are fused into one 4x4 superoperator, and parameter-free diagonal gates (a CZ
chain) into one elementwise factor ρ ⊙ d d^†, so a layer costs about one vectorised pass
per wire, whatever the batch; gate matrices come
from the engine's builders (``qcgrad.quantum.engine.BUILDERS``) or the op's own
``matrix()``, so torch autograd differentiates costs through ρ (memory grows with depth:
this mode is meant for n ≲ 8). It reads the same recorded operations as the state-vector
engine, channels included (e.g. from :func:`qcgrad.quantum.noise.with_noise`).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pennylane as qml
import torch

from . import engine


def _matrix(op: Any, batch: int, cdt: torch.dtype, rdt: torch.dtype, device) -> torch.Tensor:
    """``[d, d]`` or ``[S, d, d]`` matrix of a unitary op (differentiable in its parameters)."""
    if op.name in engine.BUILDERS:
        params = [torch.as_tensor(p, dtype=rdt, device=device) for p in op.data]
        return engine.BUILDERS[op.name](*params, cdt)
    return torch.as_tensor(op.matrix(), device=device).to(cdt)


def _superoperator(op: Any, batch: int, cdt: torch.dtype, rdt: torch.dtype, device) -> torch.Tensor:
    """K ⊗ K* summed over Kraus operators (one term, U, for a gate), rows before columns."""
    if isinstance(op, qml.operation.Channel):
        kraus = torch.stack([torch.as_tensor(k, device=device).to(cdt) for k in op.kraus_matrices()])
    else:
        kraus = _matrix(op, batch, cdt, rdt, device).unsqueeze(-3)
    d = kraus.shape[-1]
    kron = kraus[..., :, None, :, None] * kraus.conj()[..., None, :, None, :]
    return kron.reshape(kraus.shape[:-2] + (d * d, d * d)).sum(-3)


def _expand(ops: Sequence[Any]) -> list:
    """Ops the density mode applies directly: channels, and gates on at most 3 wires."""
    out: list = []
    for op in ops:
        if op.name in ("Barrier", "Identity"):
            continue
        if (isinstance(op, qml.operation.Channel) or op.name in engine.BUILDERS
                or (op.has_matrix and len(op.wires) <= 3)):
            out.append(op)
        else:
            out.extend(_expand(op.decomposition()))
    return out


def _apply(rho: torch.Tensor, sup: torch.Tensor, axes: list[int], n: int) -> torch.Tensor:
    """Superoperator ``sup`` (``[D, D]`` or ``[S, D, D]``) on ``axes`` of ρ's 2n index axes."""
    s = rho.shape[0]
    k = len(axes)
    x = rho.view((s,) + (2,) * (2 * n))
    src = [1 + a for a in axes]
    dst = list(range(1 + 2 * n - k, 1 + 2 * n))
    moved = x.movedim(src, dst)
    shape = moved.shape
    y = moved.reshape(s, -1, 1 << k) @ (sup.unsqueeze(0) if sup.dim() == 2 else sup).mT
    return y.view(shape).movedim(dst, src).reshape(rho.shape)


def _diagonal(op: Any, n: int, cdt: torch.dtype, device, cache: dict) -> torch.Tensor | None:
    """The 2^n diagonal d of a parameter-free diagonal gate (None otherwise), cached."""
    key = (op.name if op.data else engine._fixed_key(op), tuple(op.wires))
    if key not in cache:
        cache[key] = None
        if not op.data and op.has_matrix and not isinstance(op, qml.operation.Channel):
            u = torch.as_tensor(op.matrix(), device=device).to(cdt)
            if bool((u - torch.diag_embed(torch.diagonal(u))).abs().max() == 0):
                cache[key] = torch.diagonal(u)[engine._bits(n, [cache["wire_map"][w] for w in op.wires], device)]
    return cache[key]


class _Pending:
    """Fused work not yet applied: per-wire 4x4 superoperators, then one diagonal factor."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.single: dict[int, torch.Tensor] = {}
        self.diag: torch.Tensor | None = None
        self.diag_wires: set[int] = set()

    def flush(self, rho: torch.Tensor) -> torch.Tensor:
        for w, sup in self.single.items():
            rho = _apply(rho, sup, [w, self.n + w], self.n)
        if self.diag is not None:
            rho = rho * (self.diag[:, None] * self.diag.conj()[None, :])
        self.single, self.diag, self.diag_wires = {}, None, set()
        return rho


def simulate(ops: Sequence[Any], wires: Sequence[Any], batch: int, dtype: torch.dtype = torch.complex128,
             device: torch.device | str | None = None) -> torch.Tensor:
    """Final density matrices of ``batch`` circuits started in ``|0…0⟩⟨0…0|``.

    Parameters
    ----------
    ops : sequence of PennyLane operations
        Gates (parameters ``Tensor[batch]`` or constants) and channels, recorded once.
    wires : sequence
        Wire labels; ``wires[0]`` is the most significant qubit.
    batch : int
    dtype : torch.dtype
        complex128 (default) or complex64 (float64/float32 name the same precisions).
    device : torch device, optional

    Returns
    -------
    Tensor[batch, 2**n, 2**n] complex

    Examples
    --------
    >>> rho = simulate([qml.Hadamard(0), qml.DepolarizingChannel(0.75, wires=0)], [0], batch=1)
    >>> rho.real.round(decimals=12).tolist()
    [[[0.5, 0.0], [0.0, 0.5]]]
    """
    cdt, rdt = engine._complex_dtype(dtype)
    n = len(wires)
    wire_map = {w: i for i, w in enumerate(wires)}
    rho = torch.zeros(batch, 1 << n, 1 << n, dtype=cdt, device=device)
    rho[:, 0, 0] = 1
    cache: dict = {"wire_map": wire_map}
    pending = _Pending(n)
    for op in _expand(ops):
        try:
            pos = [wire_map[w] for w in op.wires]
        except KeyError as err:
            raise ValueError(f"operation {op.name} acts on wire {err.args[0]!r}; circuit wires are "
                             f"{list(wire_map)}") from None
        diag = _diagonal(op, n, cdt, device, cache)
        if diag is not None:  # after every pending single-wire operation, as flush applies them
            pending.diag = diag if pending.diag is None else pending.diag * diag
            pending.diag_wires.update(pos)
            continue
        sup = _superoperator(op, batch, cdt, rdt, device)
        if len(pos) == 1 and pos[0] not in pending.diag_wires:
            # Commutes with the pending diagonal (other wires): fuse into the wire's superoperator.
            w = pos[0]
            pending.single[w] = sup if w not in pending.single else sup @ pending.single[w]
            continue
        rho = pending.flush(rho)
        if len(pos) == 1:
            pending.single[pos[0]] = sup
        else:
            rho = _apply(rho, sup, pos + [n + p for p in pos], n)
    return pending.flush(rho)


def expectation(rho: torch.Tensor, observable: torch.Tensor) -> torch.Tensor:
    """Tr(ρ H) per sample (real) for a Hermitian ``observable[2^n, 2^n]``."""
    return torch.einsum("sij,ji->s", rho, observable.to(device=rho.device, dtype=rho.dtype)).real


def probabilities(rho: torch.Tensor) -> torch.Tensor:
    """Computational-basis outcome probabilities ``Tensor[S, 2^n]`` (the diagonal of ρ)."""
    return torch.diagonal(rho, dim1=-2, dim2=-1).real


__all__ = ["simulate", "expectation", "probabilities"]
