"""Adjoint gradients of circuits on a few qubits with one dense matrix per layer of gates.

On a few qubits a torch call costs more in dispatch than in arithmetic, so the number of
calls bounds the time of :func:`qcgrad.quantum.engine.adjoint_gradient`. A compiled circuit
(:class:`qcgrad.quantum.engine.Program`) that is a sequence of steps, each a set of
single-qubit gates of :data:`~qcgrad.quantum.engine.BUILDERS` on distinct wires followed by
parameter-free gates, runs here with

- one 2^n x 2^n matrix per step for its single-qubit gates (Kronecker products built for all
  steps of a segment at once) and one constant matrix, or diagonal, for the parameter-free
  gates after them (multiplied out once per program): two calls per forward step;
- an adjoint pass that undoes ψ and λ = Hψ together (memory independent of depth, as in the
  engine) and reads the reduced matrices of every wire of a step from one gather and one
  batched GEMM: four calls per backward step, whatever the number of gates in it;
- partials ∂C/∂p = Re Σ conj(2 M U) ⊙ dU/dp from the engine's closed-form derivatives, one
  vectorised call per gate kind and parameter for all steps of a segment.

The layout (which gate feeds which step and wire, which column feeds which gate, the
constant matrices) is worked out once per program (:func:`schedule`); a call only builds the
gate matrices from the parameters and runs the two passes.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from . import engine

#: Largest number of qubits run here; above it the engine's passes cost less than the
#: reduced matrices and Kronecker blocks of whole steps. Measured for random_pauli, S = 200,
#: L = 50, one thread, engine vs this module (best block size): n = 2: 19 vs 12 ms, 4: 42 vs
#: 29 ms, 6: 115 vs 77 ms, 7: 138 vs 178 ms, 8: 184 vs 613 ms (loaded 2-core host).
DENSE_QUBITS = 6
#: (largest n, wires per Kronecker block): a block of b wires costs S·4^b to build and apply
#: against one call per wire. Same workload, blocks of 1/2/3 wires: n = 2: 12/14 ms, 3: 21/20/23,
#: 4: 29/29/33, 5: 46/50/50, 6: 95/79/77.
BLOCK_WIRES = ((2, 1), (4, 2), (6, 3))
#: Bytes of step matrices (``[steps, S, 2^n, 2^n]`` complex) built at once; bounds the segment.
SEGMENT_BYTES = 32 * 2**20


@dataclass
class _Kind:
    """The gates of one :data:`~qcgrad.quantum.engine.BUILDERS` kind in a segment."""

    name: str
    rows: torch.Tensor  # [k] rows of the segment's gate-matrix stack
    values: list[list[torch.Tensor | int]]  # per parameter: the k gates' values (column numbers or tensors)
    trainable: list[tuple[torch.Tensor, torch.Tensor]]  # per parameter: (positions among the k, columns)


@dataclass
class _Segment:
    """Steps ``[lo, hi)``: their gates' kinds, and where each gate sits (step, wire)."""

    lo: int
    hi: int
    n_rows: int
    table: torch.Tensor  # [steps, n] row of each wire's gate, n_rows for the identity
    kinds: list[_Kind]
    step_of_row: torch.Tensor  # [n_rows] local step of each row
    wire_of_row: torch.Tensor  # [n_rows]


@dataclass
class Schedule:
    """A circuit as dense steps; built by :func:`schedule`."""

    n_qubits: int
    blocks: list[tuple[int, int]]  # wire ranges [lo, hi) with one Kronecker matrix each
    segments: list[_Segment]
    tails: list[tuple[str, torch.Tensor] | None]  # per step: ("diag", D[2^n]) or ("full", F) or None
    traces: list[torch.Tensor | None]  # per block: [4^b, 4b] partial traces onto its wires (None: b = 1)


def schedule(program: engine.Program, device) -> Schedule | None:
    """The dense steps of ``program`` (cached in it), or None when it does not fit them: more
    than :data:`DENSE_QUBITS` qubits, a gate with parameters that is not a single-qubit
    builder, or a trainable parameter that is not a column of the caller's parameters.

    Examples
    --------
    >>> import pennylane as qml
    >>> p = torch.tensor([[0.5, 0.0]], dtype=torch.float64, requires_grad=True)
    >>> ops = [qml.RY(p[:, 0], wires=0), qml.RY(p[:, 1], wires=1), qml.CZ(wires=[0, 1])]
    >>> program = engine.compile_ops(ops, [0, 1], 1, source=p)
    >>> steps = schedule(program, None)
    >>> steps.blocks, [tail[0] for tail in steps.tails]
    ([(0, 1), (1, 2)], ['diag'])
    >>> cost, grad = adjoint(program, steps, p, torch.tensor([1.0, -1.0, -1.0, 1.0]))  # Z⊗Z: cos θ₀ cos θ₁
    >>> round(cost.item(), 6), [round(g, 6) + 0.0 for g in grad[0].tolist()]
    (0.877583, [-0.479426, 0.0])
    """
    key = ("dense", str(torch.device(device or "cpu")))
    if key not in program.cache:
        program.cache[key] = _build(program, device)
    return program.cache[key]


def _build(program: engine.Program, device) -> Schedule | None:
    n, gates = program.n_qubits, program.gates
    if n > DENSE_QUBITS:
        return None
    steps: list[list[int]] = []  # gate indices of each step's single-qubit gates
    fixed: list[list[int]] = []  # gate indices of each step's parameter-free tail
    for i, g in enumerate(gates):
        if g.fixed:
            if not steps:
                steps.append([])
                fixed.append([])
            fixed[-1].append(i)
            continue
        if len(g.wires) != 1 or g.name not in engine.BUILDERS or any(
                t and not isinstance(p, int) for p, t in zip(g.params, g.trainable, strict=True)):
            return None
        if not steps or fixed[-1] or any(gates[j].wires == g.wires for j in steps[-1]):
            steps.append([])
            fixed.append([])
        steps[-1].append(i)
    products: dict = {}  # a layer's entangler recurs in every layer: multiply it out once
    tails = [_tail([gates[i] for i in f], program, device, products) if f else None for f in fixed]
    blocks = engine._chunks(n, block_wires(n))
    per_step = max(1, SEGMENT_BYTES // (program.batch * sum(1 << 2 * (hi - lo) for lo, hi in blocks) * 16))
    segments = [_segment(gates, steps, lo, min(lo + per_step, len(steps)), n, device)
                for lo in range(0, len(steps), per_step)]
    traces = [_traces(hi - lo, program.cdt, device) if hi - lo > 1 else None for lo, hi in blocks]
    return Schedule(n, blocks, segments, tails, traces)


def _traces(k: int, cdt: torch.dtype, device) -> torch.Tensor:
    """``T[4^k, 4k]``: ``M.flatten() @ T`` holds the reduced 2x2 matrix of each of ``k`` wires
    (the first most significant) of a ``2^k x 2^k`` matrix M, row-major."""
    d = 1 << k
    idx = torch.arange(d)
    t = torch.zeros(d, d, k, 2, 2, dtype=cdt)
    for q in range(k):
        bit = (idx >> (k - 1 - q)) & 1
        same_rest = ((idx[:, None] ^ idx[None, :]) & ~(1 << (k - 1 - q))) == 0
        for a in (0, 1):
            for b in (0, 1):
                t[:, :, q, a, b] = (same_rest & (bit[:, None] == a) & (bit[None, :] == b)).to(cdt)
    return t.reshape(d * d, 4 * k).to(device)


def block_wires(n: int) -> int:
    """Wires per Kronecker block of a step on ``n`` qubits (:data:`BLOCK_WIRES`)."""
    return next((wires for n_max, wires in BLOCK_WIRES if n <= n_max), BLOCK_WIRES[-1][1])


def _segment(gates: list, steps: list[list[int]], lo: int, hi: int, n: int, device) -> _Segment:
    rows = [i for step in steps[lo:hi] for i in step]
    table = [[len(rows)] * n for _ in range(hi - lo)]
    step_of_row = [j for j, step in enumerate(steps[lo:hi]) for _ in step]
    wire_of_row = [gates[i].wires[0] for i in rows]
    for r, (j, w) in enumerate(zip(step_of_row, wire_of_row, strict=True)):
        table[j][w] = r
    kinds = []
    for name in dict.fromkeys(gates[i].name for i in rows):
        mine = [r for r, i in enumerate(rows) if gates[i].name == name]
        n_params = len(gates[rows[mine[0]]].params)
        values = [[gates[rows[r]].params[j] for r in mine] for j in range(n_params)]
        trainable = []
        for j in range(n_params):
            at = [k for k, r in enumerate(mine) if gates[rows[r]].trainable[j]]
            trainable.append((torch.tensor(at, dtype=torch.long, device=device),
                              torch.tensor([values[j][k] for k in at], dtype=torch.long, device=device)))
        kinds.append(_Kind(name, torch.tensor(mine, dtype=torch.long, device=device), values, trainable))
    as_long = {"dtype": torch.long, "device": device}
    return _Segment(lo, hi, len(rows), torch.tensor(table, **as_long), kinds, torch.tensor(step_of_row, **as_long),
                    torch.tensor(wire_of_row, **as_long))


def _tail(fixed: list, program: engine.Program, device, products: dict) -> tuple[str, torch.Tensor]:
    """The product of parameter-free gates as ("diag", D) when diagonal, else ("full", F);
    kept in ``products`` by the gates' keys and wires (gates with matrix data have no key)."""
    key = tuple((g.key, g.wires) for g in fixed)
    if all(k is not None for k, _ in key) and key in products:
        return products[key]
    n, cdt = program.n_qubits, program.cdt
    d = 1 << n
    # Rows of the identity are basis states: applying the gates to them gives the product's transpose.
    eye = torch.eye(d, dtype=cdt, device=device)
    out = eye
    for g in fixed:
        out = engine._apply(out, engine._fixed_matrix(g, cdt, program.cache, device), g.wires, n, None)
    product = out.T
    off = product - torch.diag_embed(torch.diagonal(product))
    products[key] = ("full", product) if bool(off.abs().max() > 0) else ("diag", torch.diagonal(product).clone())
    return products[key]


def _matrices(seg: _Segment, params: torch.Tensor, batch: int, cdt: torch.dtype) -> tuple[torch.Tensor, list]:
    """``[n_rows + 1, S, 2, 2]``: the segment's gate matrices and the identity (last row); and
    the stacked parameters per kind (for the derivatives)."""
    mats = torch.empty(seg.n_rows + 1, batch, 2, 2, dtype=cdt, device=params.device)
    mats[-1] = torch.eye(2, dtype=cdt, device=params.device)
    stacked = []
    for kind in seg.kinds:
        values = [engine._stacked(v, params) for v in kind.values]
        mats[kind.rows] = engine.BUILDERS[kind.name](*values, cdt)
        stacked.append(values)
    return mats, stacked


def _kron_steps(mats: torch.Tensor, table: torch.Tensor, blocks: list[tuple[int, int]]) -> list[torch.Tensor]:
    """Per block ``[steps, S, 2^b, 2^b]``: each step's Kronecker product on the block's wires
    (the first wire most significant)."""
    per_wire = mats[table]  # [steps, n, S, 2, 2]
    out = []
    for lo, hi in blocks:
        k = per_wire[:, lo]
        for w in range(lo + 1, hi):
            k = engine._kron(k, per_wire[:, w])
        out.append(k)
    return out


def _rotate(x: torch.Tensor, krons: list[torch.Tensor], j: int, blocks: list[tuple[int, int]]) -> torch.Tensor:
    """Step ``j``'s block matrices on ``x[S, 2^n]``.

    Each block acts on the LAST wires as ``U @ x.mT``, one batched GEMM without strided
    views, which moves its wires to the front; taking the blocks from the last one back
    leaves the wire order as it was (as the engine's layers do).
    """
    shape = x.shape
    for (lo, hi), k in zip(reversed(blocks), reversed(krons), strict=True):
        x = torch.bmm(k[j], x.view(shape[0], -1, 1 << (hi - lo)).mT)
    return x.reshape(shape)


def _undo(pair: torch.Tensor, krons: list[torch.Tensor], j: int, sched: Schedule) -> tuple[torch.Tensor, torch.Tensor]:
    """Step ``j`` undone on ``pair = (ψ, λ)``, block by block as in :func:`_rotate`, and the
    reduced matrices ``[S, n, 2, 2]`` of its wires, M_w = Σ_rest λ ψ^†, read before.

    A block's M is read just before it is undone: the blocks undone already act on other
    wires as one unitary on ψ and λ alike, which the partial trace removes.
    """
    shape, batch = pair.shape, pair.shape[1]
    reduced = []
    for (lo, hi), k, t in zip(reversed(sched.blocks), reversed(krons), reversed(sched.traces), strict=True):
        d = 1 << (hi - lo)
        x = pair.view(2, batch, -1, d)
        m = x[1].mT @ x[0].conj()  # [S, d, d]
        reduced.append((m if t is None else m.reshape(batch, d * d) @ t).view(batch, hi - lo, 2, 2))
        pair = torch.matmul(k[j].conj().mT, x.mT)
    return pair.reshape(shape), torch.cat(reduced[::-1], 1)


def adjoint(program: engine.Program, sched: Schedule, params: torch.Tensor,
            observable: torch.Tensor | engine.PauliSum) -> tuple[torch.Tensor, torch.Tensor]:
    """Costs and gradients, as :func:`qcgrad.quantum.engine.adjoint_gradient` returns them."""
    batch, cdt, n, blocks = program.batch, program.cdt, sched.n_qubits, sched.blocks
    device = params.device
    with torch.no_grad():
        built: dict[int, tuple[torch.Tensor, list, list[torch.Tensor]]] = {}
        psi = torch.zeros(batch, 1 << n, dtype=cdt, device=device)
        psi[:, 0] = 1
        for s, seg in enumerate(sched.segments):
            mats, stacked = _matrices(seg, params, batch, cdt)
            krons = _kron_steps(mats, seg.table, blocks)
            for j in range(seg.hi - seg.lo):
                psi = _tail_apply(sched.tails[seg.lo + j], _rotate(psi, krons, j, blocks), False)
            if len(sched.segments) == 1:
                built[s] = (mats, stacked, krons)
        cost, lam = engine._seed_adjoint(psi, observable, program.rdt)
        pair = torch.stack([psi, lam])  # [2, S, 2^n]
        del psi, lam
        grad = torch.zeros_like(params)
        for s in range(len(sched.segments) - 1, -1, -1):
            seg = sched.segments[s]
            if s in built:
                mats, stacked, krons = built.pop(s)
            else:
                mats, stacked = _matrices(seg, params, batch, cdt)
                krons = _kron_steps(mats, seg.table, blocks)
            reduced = []
            for j in range(seg.hi - seg.lo - 1, -1, -1):
                pair, m = _undo(_tail_apply(sched.tails[seg.lo + j], pair, True), krons, j, sched)
                reduced.append(m)
            del krons
            _partials(seg, torch.stack(reduced[::-1]), mats, stacked, grad)
    return cost, grad


def _tail_apply(tail: tuple[str, torch.Tensor] | None, x: torch.Tensor, undo: bool) -> torch.Tensor:
    """The step's parameter-free gates (or their inverse) on ``x[*lead, 2^n]``."""
    if tail is None:
        return x
    kind, m = tail
    if kind == "diag":
        return x * (m.conj() if undo else m)
    return x @ (m.conj() if undo else m.T)


def _partials(seg: _Segment, reduced: torch.Tensor, mats: torch.Tensor, stacked: list, grad: torch.Tensor) -> None:
    """Add the segment's partials to ``grad``: dC/dU = 2 M U (torch's convention for complex
    inputs), ∂C/∂p = Re Σ conj(dC/dU) ⊙ dU/dp; for a Pauli rotation U = exp(−iθP/2), where
    dU/dθ = −(i/2) P U, that is Im tr(M^† P), read off M alone."""
    m = reduced[seg.step_of_row, :, seg.wire_of_row]  # [n_rows, S, 2, 2]
    grad_u = None
    for kind, values in zip(seg.kinds, stacked, strict=True):
        if kind.name in PAULI_AXES:
            at, cols = kind.trainable[0]
            if len(at):
                axis = PAULI_AXES[kind.name]
                part = _pauli_partial(m[kind.rows[at]], values[1][at].round() if axis is None else axis)
                grad.index_add_(1, cols, part.T.to(grad.dtype))
            continue
        if grad_u is None:
            grad_u = torch.view_as_real(2 * m @ mats[:-1])
        g_u = grad_u[kind.rows]
        for j, (at, cols) in enumerate(kind.trainable):
            if not len(at):
                continue
            d_u = engine._derivative(kind.name, [v[at] for v in values], j, mats.dtype)
            if d_u is None:
                continue
            part = (g_u[at] * torch.view_as_real(d_u)).sum((-3, -2, -1))  # [k, S]
            grad.index_add_(1, cols, part.T.to(grad.dtype))


#: Pauli rotations exp(−iθP/2) among the builders: the axis P (0: X, 1: Y, 2: Z), or None when
#: the gate's second parameter holds it per sample (AxisRotation).
PAULI_AXES: dict[str, int | None] = {"RX": 0, "RY": 1, "RZ": 2, "AxisRotation": None}


def _pauli_partial(m: torch.Tensor, axis: int | torch.Tensor) -> torch.Tensor:
    """Im tr(M^† P) for ``m[..., 2, 2]`` and the axis of P (an int, or a tensor of ``m``'s leading shape)."""
    x = -(m[..., 0, 1].imag + m[..., 1, 0].imag)
    y = m[..., 1, 0].real - m[..., 0, 1].real
    z = m[..., 1, 1].imag - m[..., 0, 0].imag
    if isinstance(axis, int):
        return (x, y, z)[axis]
    return torch.where(axis == 0, x, torch.where(axis == 1, y, z))


__all__ = ["DENSE_QUBITS", "Schedule", "adjoint", "schedule"]
