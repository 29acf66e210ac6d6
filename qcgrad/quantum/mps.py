"""Exact matrix-product-state route for circuits whose light cones are wide but whose cuts are thin.

A two-qubit gate G on wires i < j is a sum of K products, G = Σ_k L_k ⊗ R_k, with K ≤ 4: the
blocks of G in a basis of 2x2 operators on one of its wires (matrix units ``|a⟩⟨b|``, or Pauli
matrices), keeping the blocks that are not zero by structure, on the side and in the basis
with the fewest (a CNOT or CZ: 2, its control's projectors; an IsingXX: 2, in Paulis; a
SWAP: 4). Applied to an MPS as an MPO, with the index k carried through the sites between i
and j, it multiplies the bond dimension of every cut it crosses by K: no truncation, no SVD,
so the state stays exact and differentiable by torch autograd. A CNOT staircase
(``hardware_efficient`` on a chain) crosses each cut once per layer, so after L layers every
bond is 2^L, however many qubits: a local cost on 100 qubits at L = 4 holds bonds of 16, where
light cones span the register after two layers.

Site tensors are ``[S, χ_left, 2, χ_right]`` for S samples at once; single-qubit gates are
fused per wire and folded into the next two-qubit gate's factors. ⟨H⟩ of a Pauli sum
H = c₀ + Σ_t c_t P_t comes from left and right environments of ⟨ψ|ψ⟩ (ψ is normalised
exactly, gates being unitary) and, per term, the transfer matrices with the term's Paulis
on its sites: O(n S χ³) for local terms. ``torch.autograd`` on Σ_samples ⟨H⟩ gives every
sample's partials in one backward pass (samples share no parameters).

:func:`mps_plan` tells whether the route applies to a model (one- and two-qubit gates, a
Pauli-sum cost, no noise or shots), its bond dimensions and whether it pays against the
state vector; :func:`model_cost` and :func:`model_grad` run it, chunked over samples by the
model's memory budget. :mod:`qcgrad.quantum.lightcone` chooses between light cones, this
route and the full engine.
"""
from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from . import engine, lightcone

#: 2x2 operator bases for a two-qubit gate's factors on one wire: matrix units |a⟩⟨b|
#: (row-major) and the Paulis I, X, Y, Z; their duals (Tr(D_k† B_l) = δ_kl) read the blocks off.
_UNITS = [[[1, 0], [0, 0]], [[0, 1], [0, 0]], [[0, 0], [1, 0]], [[0, 0], [0, 1]]]
_PAULIS = [[[1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]]
_BASES = {"units": (_UNITS, 1.0), "paulis": (_PAULIS, 0.5)}
#: A block at most this large (entries of a unitary are ≤ 1) at generic parameters is zero by structure.
_ZERO = 1e-12
#: Stored autograd intermediates and the backward pass's gradients (measured: 1.1-1.6x the stored elements).
_AUTOGRAD_FACTOR = 1.5


@dataclass(frozen=True)
class TwoQubit:
    """How a two-qubit gate enters the MPS: ``wires`` sorted (``swap``: the gate's own order is
    reversed), factors on side ``side`` (0: wire i, 1: wire j) are the constant ``basis``
    operators ``kept``, the other side's are the gate's blocks."""

    wires: tuple[int, int]
    swap: bool
    side: int
    basis: str
    kept: tuple[int, ...]


@dataclass(frozen=True)
class MpsPlan:
    """How a model's cost is computed by the exact MPS route.

    Attributes
    ----------
    reason : str or None
        Why the route does not apply (None: it does).
    constant : float
        The identity term's coefficient.
    terms : tuple of (coefficient, {wire position: Pauli})
    gates : tuple of (TwoQubit or None)
        Per engine gate, in order: its MPO structure, None for a single-qubit gate.
    bonds : tuple of int
        Bond dimension of every cut (n − 1 of them), exact products of the crossing gates' K.
    bytes_per_sample : int
        Memory of one sample's forward and backward pass (site tensors and environments kept
        by autograd, and their gradients).
    pays : bool
        Whether one sample fits the memory budget and takes less work than the state-vector
        adjoint pass (or that pass does not fit the budget at all).
    fits : bool
        Whether one sample fits the memory budget.
    """

    reason: str | None
    constant: float = 0.0
    terms: tuple = ()
    gates: tuple = ()
    bonds: tuple = ()
    bytes_per_sample: int = 0
    pays: bool = False
    fits: bool = False

    @property
    def max_bond(self) -> int:
        """The largest bond dimension."""
        return max(self.bonds, default=1)

    @property
    def summary(self) -> str:
        """One line for ``describe()``."""
        return f"mps, bond <= {self.max_bond}"


def _basis(name: str, dtype: torch.dtype, device: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """``(basis [4, 2, 2], conjugated duals [4, 2, 2])``."""
    mats, scale = _BASES[name]
    b = torch.tensor(mats, dtype=dtype, device=device)
    return b, (b * scale).conj()


def _blocks(t: torch.Tensor, side: int, basis: str, kept: Sequence[int]) -> torch.Tensor:
    """``[B, K, 2, 2]`` blocks of a gate ``t = [B, 2, 2, 2, 2]`` (out_i, out_j, in_i, in_j) in
    ``basis`` on wire ``side``: G = Σ_k B_k ⊗ C_k (side 0) or C_k ⊗ B_k (side 1)."""
    _, dual = _basis(basis, t.dtype, t.device)
    dual = dual[list(kept)]
    if side == 0:
        return torch.einsum("kab,sacbd->skcd", dual, t)
    return torch.einsum("kcd,sacbd->skab", dual, t)


def _two_qubit_structure(wires: tuple[int, ...], samples: list[torch.Tensor]) -> TwoQubit:
    """The MPO structure with the fewest blocks, dropping the blocks that are zero in all of
    ``samples`` (the gate's matrices ``[B, 4, 4]`` at structure points)."""
    i, j = wires
    swap = i > j
    best = None
    for side in (0, 1):
        for basis in _BASES:
            size = torch.zeros(4, dtype=torch.float64)
            for m in samples:
                t = _sorted(m.to(torch.complex128), swap)
                size = torch.maximum(size, _blocks(t, side, basis, range(4)).abs().flatten(2).amax((0, 2)))
            kept = tuple(k for k in range(4) if size[k] > _ZERO)
            if best is None or len(kept) < len(best.kept):
                best = TwoQubit((min(i, j), max(i, j)), swap, side, basis, kept)
    assert best is not None
    return best


def _sorted(m: torch.Tensor, swap: bool) -> torch.Tensor:
    """A two-qubit matrix ``[..., 4, 4]`` as ``[B, 2, 2, 2, 2]`` in sorted wire order."""
    t = m.reshape(-1, 2, 2, 2, 2)
    return t.permute(0, 2, 1, 4, 3) if swap else t


def _structures(gates: list) -> tuple[TwoQubit | None, ...]:
    """Per gate, its MPO structure (None for a single-qubit gate), from its matrices at the
    recorded sample and at two generic parameter points: a block that is zero there is zero
    for all parameters (the entries are analytic). Parameter-free gates are done once per kind."""
    two = [g for g in gates if len(g.wires) == 2]
    mats = iter(engine._Matrices(two, torch.complex128, {}, None).mats)
    gen = torch.Generator().manual_seed(1)
    done: dict[tuple[str, bool], TwoQubit] = {}
    out: list[TwoQubit | None] = []
    for g in gates:
        if len(g.wires) != 2:
            out.append(None)
            continue
        m = next(mats).detach()
        key = (g.key, g.wires[0] > g.wires[1])
        if g.fixed and g.key is not None and key in done:
            found = done[key]
        else:
            samples = [m]
            if not g.fixed and g.op is not None:
                generic = [2 * math.pi * torch.rand(2, generator=gen, dtype=torch.float64) for _ in g.params]
                with contextlib.suppress(TypeError, ValueError):  # data that is no angle: the sample alone
                    samples.append(torch.as_tensor(engine._generic_matrix(g.op, generic)).detach())
            found = done[key] = _two_qubit_structure(g.wires, samples)
        out.append(TwoQubit(tuple(sorted(g.wires)), found.swap, found.side, found.basis, found.kept))
    return tuple(out)


def mps_plan(model, ops: Sequence[Any] | None = None) -> MpsPlan:
    """The exact MPS route for a :class:`qcgrad.quantum.CircuitModel` (see :class:`MpsPlan`);
    ``ops``: the model's recording at one sample of 2, when the caller has it.

    Examples
    --------
    >>> import qcgrad as qg
    >>> plan = mps_plan(qg.quantum.circuit("hardware_efficient", 40, 2, cost="local"))
    >>> plan.reason, plan.max_bond, plan.pays
    (None, 4, True)
    >>> mps_plan(qg.quantum.circuit("hardware_efficient", 4, 1, cost="global")).reason
    "cost='global' is not a sum of Pauli words"
    """
    if model.noise is not None or model.shots is not None:
        return MpsPlan("the MPS route runs exact noiseless expectations; this model has noise or shots")
    terms = lightcone.pauli_terms(model.cost_spec.observable(model.wires), model.wires)
    if terms is None:
        return MpsPlan(f"cost={model.cost_spec.name!r} is not a sum of Pauli words")
    if ops is None:
        ops = lightcone._structure_ops(model, columns=False)[0]
    gates = engine._expand(ops, {w: i for i, w in enumerate(model.wires)}, 2, torch.float64, None)
    for g in gates:
        if len(g.wires) > 2:
            return MpsPlan(f"gate {g.name} acts on {len(g.wires)} wires; the MPS route applies one- and "
                           "two-qubit gates")
    structure = _structures(gates)
    n = model.n_qubits
    bonds, elements = _bond_growth(structure, n)
    words = [w for _, w in terms if w]
    elements += _environment_elements(bonds, words)
    itemsize = engine.amplitude_bytes(model.dtype)
    per_sample = int(_AUTOGRAD_FACTOR * elements * itemsize)
    limit = engine.memory_limit(model.max_memory)
    fits = per_sample <= limit
    # Work per sample, in complex multiply-adds, forward and backward (about 3x the forward):
    # gates write their site tensors (2 per element), environments cost 4 χl χr (χl + χr) per
    # site and per step of a term beyond its first site; the adjoint state-vector pass sweeps
    # 2^n amplitudes about 6 times per gate. Measured at n = 12, S = 200 (bench_lightcone):
    # the MPS route 5-12x faster at L = 1..4, where these estimates give 2-13x.
    contractions = [4 * bonds[q] * bonds[q + 1] * (bonds[q] + bonds[q + 1]) for q in range(n)]
    work = 3 * (2 * elements + sum(contractions) + sum(sum(contractions[min(w) + 1: max(w) + 1]) for w in words))
    full = 6 * len(gates) << n
    state_fits = engine.STATES_PER_SAMPLE["adjoint"] * (1 << n) * itemsize <= limit
    constant = sum(c for c, w in terms if not w)
    return MpsPlan(None, constant, tuple((c, w) for c, w in terms if w), structure, tuple(bonds[1:-1]),
                   per_sample, pays=fits and (not state_fits or work < full), fits=fits)


def _bond_growth(structure: Sequence[TwoQubit | None], n: int) -> tuple[list[int], int]:
    """Bond dimensions ``[1, χ_0, ..., χ_{n-2}, 1]`` after every gate, and the elements of all
    site tensors the gates create (per sample; autograd keeps them)."""
    bonds = [1] * (n + 1)
    created = 0
    for s in structure:
        if s is None:
            continue
        i, j = s.wires
        for c in range(i + 1, j + 1):
            bonds[c] *= len(s.kept)
        # Site i passes through one [χl, 2K, χr] intermediate before its final layout.
        created += sum(bonds[q] * 2 * bonds[q + 1] for q in range(i, j + 1)) + bonds[i] * 2 * bonds[i + 1]
    created += sum(bonds[q] * 2 * bonds[q + 1] for q in range(n))  # pending single-qubit gates, flushed
    return bonds, created


def _environment_elements(bonds: list[int], words: list[dict[int, str]]) -> int:
    """Elements of the left and right environments and of every term's transfer steps."""
    n = len(bonds) - 1
    step = [bonds[q] * 2 * bonds[q + 1] + bonds[q + 1] ** 2 + bonds[q] ** 2 for q in range(n)]
    total = 2 * sum(step)
    for w in words:
        total += sum(2 * step[q] for q in range(min(w), max(w) + 1))
    return total


# --- simulation ------------------------------------------------------------------------------

def _factors(s: TwoQubit, m: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(L, R)``, each ``[B, K, 2, 2]``: a two-qubit gate (matrix ``m``, ``[4, 4]`` or
    ``[S, 4, 4]``) as Σ_k L_k ⊗ R_k on its sorted wires."""
    blocks = _blocks(_sorted(m, s.swap), s.side, s.basis, s.kept)
    basis = _basis(s.basis, m.dtype, m.device)[0][list(s.kept)].unsqueeze(0)
    return (basis, blocks) if s.side == 0 else (blocks, basis)


def _apply_two(sites: list[torch.Tensor], s: TwoQubit, left: torch.Tensor, right: torch.Tensor,
               pending: dict[int, torch.Tensor]) -> None:
    """Apply a two-qubit gate with factors ``left``, ``right`` (:func:`_factors`) as an MPO,
    folding in the wires' pending single-qubit gates."""
    i, j = s.wires
    if i in pending:
        left = left @ pending.pop(i).unsqueeze(-3)
    if j in pending:
        right = right @ pending.pop(j).unsqueeze(-3)
    k = len(s.kept)
    # Bonds the gate crosses become (k, old bond), k slowest: no copy on either end.
    a = sites[i]
    b, cl, _, cr = a.shape
    # new[s, l, a, (k, r)] = Σ_b L[s, k, a, b] A[s, l, b, r]
    out = left.transpose(1, 2).reshape(left.shape[0], 1, 2 * k, 2) @ a
    sites[i] = out.reshape(b, cl, 2, k * cr)
    eye = torch.eye(k, dtype=a.dtype, device=a.device)
    for q in range(i + 1, j):  # the index k passes through the sites between
        sq = sites[q]
        sites[q] = torch.einsum("slxr,kq->sklxqr", sq, eye).reshape(
            sq.shape[0], k * sq.shape[1], 2, k * sq.shape[3])
    a = sites[j]
    b, cl, _, cr = a.shape
    # new[s, (k, l), c, r] = Σ_d R[s, k, c, d] A[s, l, d, r]
    out = right.unsqueeze(2) @ a.unsqueeze(1)
    sites[j] = out.reshape(b, k * cl, 2, cr)


def _state(ops: Sequence[Any], plan: MpsPlan, n: int, batch: int, dtype: torch.dtype,
           device: Any) -> list[torch.Tensor]:
    """Site tensors ``[S, χl, 2, χr]`` of the final state."""
    cdt, rdt = engine._complex_dtype(dtype)
    gates = engine._expand(ops, {w: w for w in range(n)}, batch, rdt, device)
    if len(gates) != len(plan.gates):
        raise ValueError(f"the circuit recorded {len(gates)} gates, its MPS plan {len(plan.gates)}: "
                         "the structure must not depend on the parameters")
    zero = torch.zeros(batch, 1, 2, 1, dtype=cdt, device=device)
    zero[:, 0, 0, 0] = 1
    sites = [zero] * n
    pending: dict[int, torch.Tensor] = {}
    cache: dict = {}
    factors: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}
    for lo in range(0, len(gates), engine.SEGMENT):
        seg = gates[lo: lo + engine.SEGMENT]
        for g, m, s in zip(seg, engine._Matrices(seg, cdt, cache, device).mats, plan.gates[lo: lo + len(seg)],
                           strict=True):
            if s is None:
                (q,) = g.wires
                m = m.reshape(-1, 2, 2)
                pending[q] = m if q not in pending else m @ pending[q]
            else:
                # Parameter-free gates of one kind share their factors (a CNOT ladder: n − 1 of them).
                if not g.fixed or g.key is None:
                    left, right = _factors(s, m)
                else:
                    key = (g.key, s.swap, s.side, s.basis, s.kept)
                    if key not in factors:
                        factors[key] = _factors(s, m)
                    left, right = factors[key]
                _apply_two(sites, s, left, right, pending)
    for q, u in pending.items():
        sites[q] = u.unsqueeze(1) @ sites[q]
    return sites


def _ket(env: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """``x[s, bra l, z, ket r] = Σ env[s, l, l'] a[s, l', z, r]``: site ``a`` (ket) joined to the
    environment of the sites left of it."""
    s, cl, _, cr = a.shape
    return (env @ a.reshape(s, cl, 2 * cr)).reshape(s, env.shape[1], 2, cr)


def _close(x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """The left environment after site ``a``: its bra contracted with ``x`` (from :func:`_ket`).
    A conjugate-transposed operand costs the matmul nothing (BLAS reads it as such)."""
    s, cl, _, cr = a.shape
    return a.reshape(s, 2 * cl, cr).mH @ x.reshape(s, 2 * cl, x.shape[-1])


#: A Pauli on the physical index as a flip (X, Y) and phases: (P x)[z] = phase[z] · x[z or 1 − z].
_PHASES = {"X": (1, 1), "Y": (-1j, 1j), "Z": (1, -1)}


def _pauli(p: str, x: torch.Tensor, phases: dict[str, torch.Tensor]) -> torch.Tensor:
    """Pauli ``p`` applied to the physical index of ``x[s, l, z, r]`` (elementwise: a matmul by
    a 2x2 costs several times more at these sizes)."""
    return (x if p == "Z" else x.flip(-2)) * phases[p]


def mps_expectation(ops: Sequence[Any], plan: MpsPlan, batch: int, dtype: torch.dtype = torch.complex128,
                    device: torch.device | str | None = None) -> torch.Tensor:
    """⟨H⟩ per sample by the exact MPS route (differentiable by torch autograd).

    ``ops`` are recorded on wire positions 0..n−1 with broadcasting over ``batch``, as for
    ``qcgrad.quantum.engine.simulate``; ``n`` is the plan's (``len(plan.bonds) + 1``).
    One sweep from the left keeps every site joined to its left environment, one from the
    right every site's bra joined to its right environment; a one-site term is then one
    elementwise product, a longer term carries its Paulis from its first site to its last.

    Examples
    --------
    The cost of ``hardware_efficient`` on 2 qubits, 1/2 − (⟨Z0⟩ + ⟨Z1⟩)/4, with RY(θ) on wire
    0 only: ⟨Z0⟩ = ⟨Z1⟩ = cos θ after the CNOT.

    >>> import qcgrad as qg
    >>> qc = qg.quantum.circuit("hardware_efficient", 2, 1, cost="local")
    >>> p = torch.tensor([[0.0, 0, 0, 0], [1.0, 0, 0, 0]], dtype=torch.float64)
    >>> model_cost(qc, mps_plan(qc), p)
    tensor([0.0000, 0.2298], dtype=torch.float64)
    """
    n = len(plan.bonds) + 1
    sites = _state(ops, plan, n, batch, dtype, device)
    cdt = sites[0].dtype
    env = torch.ones(batch, 1, 1, dtype=cdt, device=device)
    kets = []  # kets[q][s, bra l, z, ket r]: site q joined to sites 0..q−1
    for q in range(n):
        kets.append(_ket(env, sites[q]))
        if q < n - 1:
            env = _close(kets[-1], sites[q])
    # From the right, the conjugates (bra ↔ ket) are carried: every matmul then reads a site
    # plain or conjugate-transposed, never conjugated alone (which would copy it).
    env = torch.ones(batch, 1, 1, dtype=cdt, device=device)
    bras: list[torch.Tensor] = [env] * n  # conj(bras[q][s, bra l, x, ket r]): site q's bra joined to q+1..n−1
    for q in range(n - 1, -1, -1):
        a = sites[q]
        s, cl, _, cr = a.shape
        bras[q] = (a.reshape(s, 2 * cl, cr) @ env).reshape(s, cl, 2, cr)
        if q > 0:
            env = bras[q].reshape(s, cl, 2 * cr) @ a.reshape(s, cl, 2 * cr).mH
    phases = {p: torch.tensor(v, dtype=cdt, device=device).view(2, 1) for p, v in _PHASES.items()}
    total = torch.full((batch,), plan.constant, dtype=engine._complex_dtype(dtype)[1], device=device)
    for coeff, word in plan.terms:
        lo, hi = min(word), max(word)
        x = _pauli(word[lo], kets[lo], phases)
        for q in range(lo + 1, hi + 1):
            x = _ket(_close(x, sites[q - 1]), sites[q])
            if q in word:
                x = _pauli(word[q], x, phases)
        # Re Σ conj(b) x = Σ (Re b Re x + Im b Im x), in real arithmetic.
        value = (torch.view_as_real(bras[hi]) * torch.view_as_real(x)).sum((-4, -3, -2, -1))
        total = total + coeff * value
    return total


# --- the model's cost and gradient -----------------------------------------------------------

def _chunked(model, plan: MpsPlan, params: torch.Tensor, fn) -> torch.Tensor:
    """``fn`` over chunks of samples that fit the memory budget; raises before allocating when
    one sample does not."""
    limit = engine.memory_limit(model.max_memory)
    if plan.bytes_per_sample > limit:
        raise ValueError(f"one sample of the MPS route (bond <= {plan.max_bond}) needs "
                         f"{plan.bytes_per_sample / 2**30:.3g} GiB, more than max_memory={model.max_memory}"
                         + ("" if limit == model.max_memory else f" / the {limit / 2**30:.3g} GiB available")
                         + "; raise max_memory, or use fewer layers")
    step = limit // plan.bytes_per_sample
    # The site tensors are small: torch's threads cost more than they save (measured 4x slower
    # with 2 threads at bond 16, S = 50), so they are capped as for small state vectors.
    with engine._cpu_threads(min(step, params.shape[0]) * 2 * plan.max_bond ** 2, params.device):
        if params.shape[0] <= step:
            return fn(params)
        return torch.cat([fn(params[lo: lo + step]) for lo in range(0, params.shape[0], step)])


def model_cost(model, plan: MpsPlan, params: torch.Tensor) -> torch.Tensor:
    """``CircuitModel.cost`` by the MPS route (differentiable by autograd)."""
    return _chunked(model, plan, params, lambda p: mps_expectation(
        model._record(p), plan, p.shape[0], model.dtype, p.device))


def model_grad(model, plan: MpsPlan, params: torch.Tensor, indices: Sequence[int] | None = None) -> torch.Tensor:
    """``CircuitModel.grad`` by the MPS route and one backward pass: ``[S, n_params]``, or
    ``[S, k]`` for ``indices``."""
    def grad(p: torch.Tensor) -> torch.Tensor:
        p = p.detach().requires_grad_(True)
        with torch.enable_grad():
            cost = mps_expectation(model._record(p), plan, p.shape[0], model.dtype, p.device)
            (g,) = torch.autograd.grad(cost.sum(), p, allow_unused=True)
        return torch.zeros_like(p) if g is None else g

    g = _chunked(model, plan, params, grad) * model.trainable.to(params.device)
    return g if indices is None else g[:, torch.as_tensor(list(indices), dtype=torch.long)]


__all__ = ["MpsPlan", "TwoQubit", "mps_plan", "mps_expectation", "model_cost", "model_grad"]
