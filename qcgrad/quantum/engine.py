"""Batched state-vector engine: S circuits with per-sample parameters, one torch pass per gate.

The engine takes the operations that a PennyLane quantum function recorded ONCE with
broadcast parameters (each parameter a ``Tensor[S]``, or a constant) and applies them to a
batch of S state vectors in torch, on CPU or CUDA. It only reads an operation's ``name``,
``wires``, ``data``, ``hyperparameters``, ``matrix()``/``compute_matrix`` and
``decomposition()``, so this module imports with torch alone.

Why it is fast:
- single-qubit gates are batched 2x2 matmuls on a ``[S, A, 2, B]`` view (one kernel);
- consecutive single-qubit gates are fused (per wire, and then into a Kronecker block of
  neighbouring wires, one matmul for the block; :func:`block_wires` sets how many);
- parameter-free diagonal gates (CZ chains, Z, S, T) are fused into one diagonal vector;
- matrices of all gates of one kind are built in one vectorised call;
- when every wire has a pending single-qubit gate (layered ansätze), the blocks are applied
  as ``U @ x.mT`` on the last wires, which moves those wires to the front: one large batched
  GEMM per block and no strided middle-block matmuls; after all blocks the order is restored;
- small batches run on one CPU thread (:data:`MIN_AMPLITUDES_PER_THREAD`): the kernels are
  too short for thread barriers to pay, and on a shared machine they stall.

Observables: a real diagonal ``Tensor[2^n]`` (diagonal costs) or a Pauli-sum Hamiltonian
compiled by :func:`pauli_sum` (``qml.Hamiltonian``/``qml.ops.Sum`` of Pauli words, e.g. TFIM
or Heisenberg) into a :class:`PauliSum`; both are accepted by :func:`expectation` and
:func:`adjoint_gradient`. Hψ is a sum of bit-flip permutations times diagonal phases (terms
sharing a flip mask are merged), never a dense 2^n x 2^n matrix.

A recording is compiled into a :class:`Program` (:func:`compile_ops`): gates with their
parameters as column numbers of the caller's parameters. When it holds only the layout
(``Program.reusable``), a model compiles its circuit once per batch layout and later calls
neither record nor compile. Circuits on a few qubits whose layers are single-qubit rotations and
parameter-free gates run their gradients in :mod:`qcgrad.quantum.dense_layers` (one dense
matrix per step of gates; a handful of torch calls per layer, whatever the number of gates).

Gradients (:func:`adjoint_gradient`) use the adjoint method: memory O(S·2^n), independent
of depth. Partials with respect to the gates' own parameters come from the reduced matrix
M = Σ λ ψ^† on the gate's wires: a layer of single-qubit gates is read and undone one block
of wires at a time (:class:`_Undo`), and ∂C/∂p = Re Σ conj(2 M U) ⊙ dU/dp with dU/dp in
closed form for the built-in rotations (one vectorised call per kind), by autograd of one
real scalar for any other gate with a torch-differentiable matrix. They are added to the
caller's parameters by column when a gate parameter is a plain column of them (no
per-depth memory), else per segment by ``torch.autograd.grad`` through the recorded
parameter processing.
"""
from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Callable, Sequence
from typing import Any, cast

import torch

from . import dense_layers

#: Default budget for one batch of state vectors (bytes); callers chunk samples under it.
DEFAULT_MAX_MEMORY = 2 * 2**30
#: Largest number of neighbouring wires whose pending single-qubit gates are fused into one
#: dense block (2^4 x 2^4) on CUDA, where passes over the state bound the time.
BLOCK_WIRES = 4
#: On CPU, (largest n_qubits, block wires): building a block and its complex GEMM cost more
#: than the passes they save unless the state is large; 3 wires above the last entry.
#: Measured for random_pauli, S=200, L=50, 2 cores: n=4: 43 ms with 1 wire vs 75 ms with
#: 4; n=8: 126 ms with 2 vs 176 ms; n=12: 1.53 s with 3 vs 1.92 s.
CPU_BLOCK_WIRES = ((5, 1), (8, 2))
#: Above this many columns per sample, a fused block ``U[d, d] @ x[d, columns]`` runs as one GEMM
#: per sample instead of one batched GEMM: cuBLAS's batched complex128 kernels drop from 2.75
#: to 1.35 TB/s (0.46 at 2^20 columns) on an H100 there, single GEMMs keep 2.3-2.7 TB/s.
GEMM_COLUMNS = 1 << 16
#: Reduced matrices of wires with at least this many amplitudes after them are summed from
#: one batched GEMM per leading index; fewer: einsum (tiny GEMMs cost more than they save).
REDUCE_GEMM_COLUMNS = 8
#: Up to this many qubits, products of runs of parameter-free diagonal gates are cached per
#: call (one 2^n vector per distinct run prefix).
DIAGONAL_RUN_QUBITS = 14
#: Gates whose matrices are built per segment; bounds the memory the matrices take.
SEGMENT = 256
#: State vectors alive at once per sample: forward (state + buffer) and adjoint (ψ, λ pair
#: + buffer pair + reduced-matrix temporaries); used to size chunks.
STATES_PER_SAMPLE = {"forward": 3, "adjoint": 6}
#: CPU work per torch thread (amplitudes of the batch): smaller batches use fewer threads.
MIN_AMPLITUDES_PER_THREAD = 1 << 22


@contextlib.contextmanager
def _cpu_threads(amplitudes: int, device: torch.device):
    """Cap torch's CPU threads at one per :data:`MIN_AMPLITUDES_PER_THREAD` amplitudes.

    Never raises the caller's thread count; CUDA work is left alone.
    """
    before = torch.get_num_threads()
    wanted = min(before, max(1, amplitudes // MIN_AMPLITUDES_PER_THREAD))
    if torch.device(device or "cpu").type != "cpu" or wanted == before:
        yield
        return
    torch.set_num_threads(wanted)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# --- gate matrices, vectorised over any leading shape -------------------------------------

def _matrix(cdt: torch.dtype, *parts: torch.Tensor) -> torch.Tensor:
    """``[..., 2, 2]`` complex from the entries' (real, imaginary) parts, row-major.

    Built in real arithmetic and viewed as complex at the end: torch's elementwise complex
    kernels are several times slower on CPU.
    """
    return torch.view_as_complex(torch.stack(parts, -1).unflatten(-1, (2, 2, 2))).to(cdt)


def _half_angle(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """cos(t/2), sin(t/2) and zeros: the entries of the Pauli rotations."""
    return torch.cos(t / 2), torch.sin(t / 2), torch.zeros_like(t)


def _rx(t: torch.Tensor, cdt: torch.dtype) -> torch.Tensor:
    c, s, z = _half_angle(t)
    return _matrix(cdt, c, z, z, -s, z, -s, c, z)


def _ry(t: torch.Tensor, cdt: torch.dtype) -> torch.Tensor:
    c, s, z = _half_angle(t)
    return _matrix(cdt, c, z, -s, z, s, z, c, z)


def _rz(t: torch.Tensor, cdt: torch.dtype) -> torch.Tensor:
    c, s, z = _half_angle(t)
    return _matrix(cdt, c, -s, z, z, z, z, c, s)


def _phase_shift(t: torch.Tensor, cdt: torch.dtype) -> torch.Tensor:
    z = torch.zeros_like(t)
    return _matrix(cdt, z + 1, z, z, z, z, z, torch.cos(t), torch.sin(t))


def _rot(phi: torch.Tensor, theta: torch.Tensor, omega: torch.Tensor, cdt: torch.dtype) -> torch.Tensor:
    # Rot(φ, θ, ω) = RZ(ω) RY(θ) RZ(φ), PennyLane's convention:
    # [[e^{-ia} c, -e^{ib} s], [e^{-ib} s, e^{ia} c]] with a = (φ+ω)/2, b = (φ−ω)/2.
    c, s = torch.cos(theta / 2), torch.sin(theta / 2)
    a, b = (phi + omega) / 2, (phi - omega) / 2
    ca, sa, cb, sb = torch.cos(a) * c, torch.sin(a) * c, torch.cos(b) * s, torch.sin(b) * s
    return _matrix(cdt, ca, -sa, -cb, -sb, cb, -sb, ca, sa)


def _axis_rotation(t: torch.Tensor, code: torch.Tensor, cdt: torch.dtype) -> torch.Tensor:
    # qcgrad.quantum.ops.AxisRotation: c·I − i·s·P, P = X, Y, Z for code 0, 1, 2.
    c, s, z = _half_angle(t)
    code = code.round()
    sx, sy, sz = (torch.where(code == k, s, z) for k in range(3))
    return _matrix(cdt, c, -sz, -sy, -sx, sy, -sx, c, sz)


#: Parametrised gates built here without PennyLane's dispatch; others use ``compute_matrix``.
BUILDERS: dict[str, Callable[..., torch.Tensor]] = {
    "RX": _rx, "RY": _ry, "RZ": _rz, "PhaseShift": _phase_shift, "Rot": _rot, "AxisRotation": _axis_rotation,
}


def _phase_shift_derivative(t: torch.Tensor, cdt: torch.dtype) -> torch.Tensor:
    z = torch.zeros_like(t)
    return _matrix(cdt, z, z, z, z, z, z, -torch.sin(t), torch.cos(t))


def _derivative(name: str, params: list[torch.Tensor], j: int, cdt: torch.dtype) -> torch.Tensor | None:
    """dU/dp_j of a :data:`BUILDERS` gate in closed form, or None when it is identically zero.

    Every builder except PhaseShift is a product of Pauli rotations exp(−i p P/2), so
    dU/dp_j = ½ U(p_j + π); PhaseShift's is diag(0, i e^{ip}). AxisRotation's axis code is
    structure (rounded), not a parameter.
    """
    if name == "PhaseShift":
        return _phase_shift_derivative(params[0], cdt)
    if name == "AxisRotation" and j == 1:
        return None
    shifted = [p + torch.pi if k == j else p for k, p in enumerate(params)]
    return BUILDERS[name](*shifted, cdt) / 2


class _Gate:
    """One recorded operation in engine terms: wire positions, parameters, matrix source.

    ``params[j]`` is a ``Tensor[S]``, or an int ``c`` when the recorded parameter is the plain
    column ``source[:, c]`` of the caller's parameters: the gate then holds no reference to
    the recording, which is freed before any state is allocated. ``op`` is kept only where
    the matrix comes from it (one shared instance per parameter-free ``key``, see
    :func:`_fixed_key`; None for gates with data).
    """

    __slots__ = ("op", "name", "key", "wires", "params", "trainable", "fixed", "reusable")

    def __init__(self, op: Any, wires: tuple[int, ...], batch: int, rdt: torch.dtype, device,
                 source: torch.Tensor | None, shared: dict) -> None:
        self.name, self.wires = op.name, wires
        # Python floats become float64 (torch.as_tensor would make them float32).
        data = [torch.as_tensor(p, dtype=rdt) if isinstance(p, (int, float)) else torch.as_tensor(p) for p in op.data]
        # Matrix-valued data (QubitUnitary) or no data: a constant matrix from op.matrix().
        self.fixed = not data or any(p.dim() > 1 or (p.dim() == 1 and p.shape[0] != batch) for p in data)
        columns = [None if self.fixed else _column(p, source) for p in data]
        self.params = [] if self.fixed else [c if c is not None else _as_batch(p, batch, rdt, device)
                                             for p, c in zip(data, columns, strict=True)]
        self.trainable = [isinstance(p, torch.Tensor) and p.requires_grad for p in op.data]
        # Valid for any values of source: every parameter a column of it or a constant (neither
        # computed by autograd from it nor reading its memory otherwise).
        self.reusable = all(c is not None or not (p.requires_grad or _shares_memory(p, source))
                            for p, c in zip(data, columns, strict=True))
        if self.fixed and any(self.trainable):
            raise ValueError(f"operation {op.name} has matrix-valued trainable data; the engine "
                             "differentiates scalar gate parameters only")
        self.key = _fixed_key(op) if not data else None
        if not self.fixed:
            self.op = None if op.name in BUILDERS else op
        else:  # parameter-free matrices are cached by key (_fixed_matrix): one instance serves
            self.op = op if self.key is None else shared.setdefault(self.key, op)


#: Parameter-free gates whose matrix the name alone fixes. Other parameter-free operations
#: are keyed by their repr: one name can carry different matrices (MultiControlledX's
#: control values, the factors of a ``qml.prod``).
NAMED_GATES = frozenset({"Hadamard", "PauliX", "PauliY", "PauliZ", "S", "T", "SX", "CNOT", "CZ", "CY", "CH",
                         "SWAP", "ISWAP", "SISWAP", "SQISW", "ECR", "Toffoli", "CSWAP", "CCZ"})


def _fixed_key(op: Any) -> str:
    """Cache key of a parameter-free operation's matrix (in its own wire order)."""
    return op.name if op.name in NAMED_GATES else repr(op)


def _span(t: torch.Tensor) -> tuple[int, int]:
    """The address range ``[first, last]`` of the bytes ``t`` reads (allocations never overlap)."""
    last = sum((n - 1) * abs(st) for n, st in zip(t.shape, t.stride(), strict=True)) if t.numel() else -1
    return t.data_ptr(), t.data_ptr() + (last + 1) * t.element_size() - 1


def _shares_memory(p: torch.Tensor, source: torch.Tensor | None) -> bool:
    if source is None or not p.numel() or not source.numel():
        return False
    (a, b), (c, d) = _span(p), _span(source)
    return a <= d and c <= b


def _column(p: torch.Tensor, source: torch.Tensor | None) -> int | None:
    """``c`` when ``p`` reads the memory of ``source[:, c]`` of ``source[S, P]`` (a view of it,
    or of a detached alias: frozen structure), else None."""
    if source is None or p.dim() != 1 or source.dim() != 2 or source.stride(1) != 1 \
            or p.dtype != source.dtype or not _shares_memory(p, source):
        return None
    c, rest = divmod(p.data_ptr() - source.data_ptr(), p.element_size())
    if rest:
        return None
    same_rows = p.shape[0] == source.shape[0] and p.stride(0) == source.stride(0)
    return int(c) if same_rows and 0 <= c < source.shape[1] else None


def _as_batch(p: torch.Tensor, batch: int, rdt: torch.dtype, device) -> torch.Tensor:
    """A gate parameter as ``Tensor[S]`` (constants broadcast)."""
    t = p.to(dtype=rdt, device=device)
    return t.expand(batch) if t.dim() == 0 else t


def _expand(ops: Sequence[Any], wire_map: dict[Any, int], batch: int, rdt, device,
            source: torch.Tensor | None = None, shared: dict | None = None) -> list[_Gate]:
    """Engine gates for PennyLane ops; templates and >3-qubit ops are decomposed first.

    With ``source`` (the tensor the ops were recorded from), its plain columns are kept as
    column numbers (see :class:`_Gate`).
    """
    shared = {} if shared is None else shared
    gates: list[_Gate] = []
    for op in ops:
        if op.name in ("Barrier", "Identity"):
            continue
        labels = op.wires.labels  # computed anew on every access for controlled gates
        if not (op.name in BUILDERS or (op.has_matrix and len(labels) <= 3)):
            gates.extend(_expand(op.decomposition(), wire_map, batch, rdt, device, source, shared))
            continue
        try:
            wires = tuple(wire_map[w] for w in labels)
        except KeyError as err:
            raise ValueError(f"operation {op.name} acts on wire {err.args[0]!r}; circuit wires are "
                             f"{list(wire_map)}") from None
        gates.append(_Gate(op, wires, batch, rdt, device, source, shared))
    return gates


class Program:
    """A recording compiled for the engine: its gates, and a cache of what follows from them
    alone (parameter-free matrices, full diagonals and products of diagonal runs).

    Build it with :func:`compile_ops`; :func:`adjoint_gradient` runs it in place of a
    recording. ``reusable`` is True when every gate parameter is a column of the ``source``
    it was compiled from (angles, frozen structure) or a constant: the program then holds
    the circuit's layout, not its parameter values, and runs on any parameters of the same
    shape, so a model records and compiles its circuit once per batch layout.
    """

    def __init__(self, gates: list[_Gate], n_qubits: int, batch: int, dtype: torch.dtype) -> None:
        self.gates, self.n_qubits, self.batch = gates, n_qubits, batch
        self.cdt, self.rdt = _complex_dtype(dtype)
        self.cache: dict = {}
        self.reusable = all(g.reusable for g in gates)


def compile_ops(ops: Sequence[Any], wires: Sequence[Any], batch: int, dtype: torch.dtype = torch.complex128,
                device: torch.device | str | None = None, source: torch.Tensor | None = None) -> Program:
    """Compile recorded operations (as :func:`adjoint_gradient` takes them) into a :class:`Program`.

    Parameters
    ----------
    ops, wires, batch, dtype, device
        As in :func:`simulate`.
    source : Tensor[batch, P], optional
        The tensor the operations' parameters were computed from; its columns are kept by
        number, so the program can run on other parameters of the same layout.

    Examples
    --------
    >>> import pennylane as qml
    >>> p = torch.zeros(2, 1, dtype=torch.float64, requires_grad=True)
    >>> program = compile_ops([qml.RY(p[:, 0], wires=0), qml.CZ(wires=[0, 1])], [0, 1], 2, source=p)
    >>> program.reusable, [g.name for g in program.gates]
    (True, ['RY', 'CZ'])
    >>> compile_ops([qml.RY(p[:, 0] * 2, wires=0)], [0], 2, source=p).reusable  # computed from p
    False
    """
    cdt, rdt = _complex_dtype(dtype)
    gates = _expand(ops, {w: i for i, w in enumerate(wires)}, batch, rdt, device, source=source)
    return Program(gates, len(wires), batch, cdt)


class _Matrices:
    """Matrices of a segment of gates, built per kind in one vectorised call.

    ``kinds[name] = (gate indices, stacked parameters [k, S] per parameter)`` for the
    :data:`BUILDERS` gates, whose derivatives :func:`_derivative` gives in closed form. With
    ``leaves=True`` the other gates' parameters are detached copies that require grad
    (``leaves[i]``), so autograd pulls partials of their matrices back to them. Column
    parameters are read from ``source``.
    """

    def __init__(self, gates: Sequence[_Gate], cdt: torch.dtype, cache: dict, device, leaves: bool = False,
                 source: torch.Tensor | None = None) -> None:
        self.mats: list[torch.Tensor] = [None] * len(gates)  # type: ignore[list-item]
        self.leaves: dict[int, list[torch.Tensor]] = {}
        self.kinds: dict[str, tuple[list[int], list[torch.Tensor]]] = {}
        by_kind: dict[str, list[int]] = {}
        for i, g in enumerate(gates):
            if g.fixed:
                self.mats[i] = _fixed_matrix(g, cdt, cache, device)
            elif g.name in BUILDERS:
                by_kind.setdefault(g.name, []).append(i)
            else:
                ps = [_stacked([p], source)[0] if isinstance(p, int) else p for p in g.params]
                if leaves:
                    ps = [p.detach().requires_grad_(t) for p, t in zip(ps, g.trainable, strict=True)]
                    self.leaves[i] = ps
                self.mats[i] = _generic_matrix(g.op, ps).to(cdt)
        for name, idx in by_kind.items():
            stacked = [_stacked([gates[i].params[j] for i in idx], source) for j in range(len(gates[idx[0]].params))]
            if leaves:
                stacked = [s.detach() for s in stacked]
            self.kinds[name] = (idx, stacked)
            mats = BUILDERS[name](*stacked, cdt)
            for row, i in enumerate(idx):
                self.mats[i] = mats[row]


def _stacked(values: list[torch.Tensor | int], source: torch.Tensor | None) -> torch.Tensor:
    """``Tensor[k, S]`` of k gates' parameters: tensors, or columns of ``source`` (one gather)."""
    if source is None:  # an int names a column of source, so without one every value is a tensor
        return torch.stack(cast("list[torch.Tensor]", values))
    if all(isinstance(v, int) for v in values):
        return source.detach().index_select(1, torch.tensor(values, device=source.device)).T.contiguous()
    return torch.stack([source.detach()[:, v] if isinstance(v, int) else v for v in values])


def _generic_matrix(op: Any, params: list[torch.Tensor]) -> torch.Tensor:
    """The matrix of ``op`` with its data replaced by ``params`` (autograd flows through)."""
    twin = copy.copy(op)
    twin.data = tuple(params)
    return torch.as_tensor(twin.matrix())


def _fixed_matrix(g: _Gate, cdt: torch.dtype, cache: dict, device) -> torch.Tensor:
    """A constant gate matrix; parameter-free gates are cached by key."""
    op = g.op
    assert op is not None  # a fixed gate keeps its op (see _Gate)
    if g.key is None:
        return torch.as_tensor(op.matrix(), dtype=cdt, device=device)
    if g.key not in cache:
        cache[g.key] = torch.as_tensor(op.matrix(), dtype=cdt, device=device)
    return cache[g.key]


# --- applying matrices to a batch [*lead, S, 2^n] -------------------------------------------

def _bits(n: int, wires: Sequence[int], device) -> torch.Tensor:
    """Index of the local basis state of ``wires`` for every global basis state."""
    idx = torch.arange(1 << n, device=device)
    local = torch.zeros_like(idx)
    for w in wires:
        local = (local << 1) | ((idx >> (n - 1 - w)) & 1)
    return local


def _full_diagonal(g: _Gate, mat: torch.Tensor, n: int, cache: dict) -> torch.Tensor | None:
    """The 2^n diagonal of a fixed diagonal gate, or None when it is not diagonal.

    Cached by key and wires for parameter-free gates; a gate with matrix data (QubitUnitary)
    is looked at anew, since gates of one name differ.
    """
    key = ("diag", g.key, g.wires)
    if g.key is not None and key in cache:
        return cache[key]
    off = mat - torch.diag_embed(torch.diagonal(mat))
    full = None if bool(off.abs().max() > 0) else torch.diagonal(mat)[_bits(n, g.wires, mat.device)]
    if g.key is not None:
        cache[key] = full
    return full


def _apply(
    state: torch.Tensor, u: torch.Tensor, wires: Sequence[int], n: int, out: torch.Tensor | None
) -> torch.Tensor:
    """``U`` (``[S, d, d]`` or ``[d, d]``) on ``wires`` of every state in ``state[*lead, S, 2^n]``."""
    lead = state.shape[:-1]
    k = len(wires)
    d = 1 << k
    pre = (1,) * (len(lead) - 1)
    batched = u.dim() == 3
    contiguous = list(wires) == list(range(wires[0], wires[0] + k))
    if contiguous:
        a, b = 1 << wires[0], 1 << (n - wires[0] - k)
        if b == 1:  # target wires last: right-multiply, M = A rows per matmul
            ut = (u.view(pre + u.shape) if batched else u).mT
            res_shape = lead + (a, d)
            x = state.view(res_shape)
            if out is None:
                return torch.matmul(x, ut).view(state.shape)
            return torch.matmul(x, ut, out=out.view(res_shape)).view(state.shape)
        uv = u.view(pre + (u.shape[0], 1, d, d)) if batched else u
        res_shape = lead + (a, d, b)
        x = state.view(res_shape)
        if out is None:
            return torch.matmul(uv, x).view(state.shape)
        return torch.matmul(uv, x, out=out.view(res_shape)).view(state.shape)
    # Arbitrary wire order: move the target wires last, right-multiply, move them back.
    nl = len(lead)
    x = state.view(lead + (2,) * n)
    src = [nl + w for w in wires]
    dst = list(range(nl + n - k, nl + n))
    xm = x.movedim(src, dst).reshape(lead + (1 << (n - k), d))
    ut = (u.view(pre + u.shape) if batched else u).mT
    y = torch.matmul(xm, ut).view(lead + (2,) * n).movedim(dst, src).reshape(state.shape)
    if out is None:
        return y
    return out.copy_(y)


def _reduced(pair: torch.Tensor, wires: Sequence[int], n: int) -> torch.Tensor:
    """M[s, a, b] = Σ_rest λ[s, a, rest] conj(ψ[s, b, rest]) on ``wires``; ``pair = (ψ, λ)``."""
    k = len(wires)
    d = 1 << k
    psi, lam = pair[0], pair[1]
    s = psi.shape[0]
    if list(wires) == list(range(wires[0], wires[0] + k)):
        a, b = 1 << wires[0], 1 << (n - wires[0] - k)
        # Batched GEMMs without copies where the contracted runs are long; einsum otherwise.
        if b == 1:
            return lam.view(s, a, d).mT @ psi.view(s, a, d).conj()
        if a == 1:
            return lam.view(s, d, b) @ psi.view(s, d, b).conj().mT
        if b >= REDUCE_GEMM_COLUMNS:
            return (lam.view(s, a, d, b) @ psi.view(s, a, d, b).conj().mT).sum(1)
        return torch.einsum("sxay,sxby->sab", lam.view(s, a, d, b), psi.view(s, a, d, b).conj())
    src = [1 + w for w in wires]
    dst = list(range(1 + n - k, 1 + n))
    lv = lam.view((s,) + (2,) * n).movedim(src, dst).reshape(s, -1, d)
    pv = psi.view((s,) + (2,) * n).movedim(src, dst).reshape(s, -1, d)
    return lv.mT @ pv.conj()


class _Runner:
    """Forward application with fusion: pending per-wire 2x2 gates, then a pending diagonal."""

    def __init__(self, state: torch.Tensor, n: int, cache: dict, inplace: bool) -> None:
        self.state, self.n, self.cache, self.inplace = state, n, cache, inplace
        self.buf = torch.empty_like(state) if inplace else None
        self.block_wires = block_wires(n, state.device)
        self.single: dict[int, torch.Tensor] = {}
        self.diag: torch.Tensor | None = None
        self.diag_key: tuple | None = ()
        self.diag_wires: set[int] = set()

    def _matmul(self, u: torch.Tensor, wires: Sequence[int]) -> None:
        if self.inplace:
            res = _apply(self.state, u, wires, self.n, self.buf)
            self.state, self.buf = res, self.state
        else:
            self.state = _apply(self.state, u, wires, self.n, None)

    def _fused(self, wires: Sequence[int]) -> torch.Tensor:
        """The Kronecker product of the pending gates on ``wires`` (the first on the highest)."""
        u = self.single[wires[0]]
        for w in wires[1:]:
            u = _kron(u, self.single[w])
        return u

    def flush(self) -> None:
        if len(self.single) == self.n:
            self._rotating_blocks()
        self._blocks()
        if self.diag is not None:
            self.state = self.state.mul_(self.diag) if self.inplace else self.state * self.diag
        self.diag, self.diag_key, self.diag_wires = None, (), set()

    def _rotating_blocks(self) -> None:
        # Each block acts on the LAST wires as U @ x.mT, which writes its wires to the front;
        # taking the blocks from the last one back leaves the wire order as it was.
        lead = self.state.shape[:-1]
        for lo, hi in reversed(_chunks(self.n, self.block_wires)):
            u = self._fused(range(lo, hi))
            d = 1 << (hi - lo)
            x = self.state.view(lead + (-1, d)).mT
            if self.buf is not None:  # in place: write into the spare buffer, then swap
                out = self.buf.view(lead + (d, -1))
                cols = x.shape[-1]
                if cols > GEMM_COLUMNS:  # large states: one GEMM per sample
                    us = u.expand(lead + (d, d)).reshape(-1, d, d)
                    for ui, xi, oi in zip(us, x.reshape(-1, d, cols), out.view(-1, d, cols), strict=True):
                        torch.mm(ui, xi, out=oi)
                else:
                    torch.matmul(u, x, out=out)
                self.state, self.buf = out.view(self.state.shape), self.state
            else:
                self.state = torch.matmul(u, x).reshape(self.state.shape)
        self.single = {}

    def _blocks(self) -> None:
        wires = sorted(self.single)
        # Kronecker blocks of neighbouring wires: one pass over the state per block.
        while wires:
            block = [wires[0]]
            while len(block) < self.block_wires and len(block) < len(wires) and wires[len(block)] == block[-1] + 1:
                block.append(wires[len(block)])
            wires = wires[len(block):]
            self._matmul(self._fused(block), block)
        self.single = {}

    def push(self, g: _Gate, mat: torch.Tensor) -> None:
        if g.fixed and len(g.wires) <= 3:
            full = _full_diagonal(g, mat, self.n, self.cache)
            if full is not None:  # after every pending gate, which all come before the diagonal
                self.diag, self.diag_key = _times(self.cache, self.n, self.diag, self.diag_key, g, full, False)
                self.diag_wires.update(g.wires)
                return
        if len(g.wires) == 1 and g.wires[0] not in self.diag_wires:
            w = g.wires[0]  # commutes with the pending diagonal: fuse into the wire's gate
            self.single[w] = mat if w not in self.single else mat @ self.single[w]
            return
        self.flush()
        if len(g.wires) == 1:
            self.single[g.wires[0]] = mat
        else:
            self._matmul(mat, g.wires)


def _times(cache: dict, n: int, diag: torch.Tensor | None, key: tuple | None, g: _Gate, full: torch.Tensor,
           conj: bool) -> tuple[torch.Tensor, tuple | None]:
    """The pending diagonal times ``full`` (conjugated in the adjoint pass) and its key.

    Products of runs of parameter-free gates are cached by the run (``key``, None: not
    cacheable) for small states, so a layer's CZ chain is multiplied out once per call.
    """
    key = key + ((g.key, g.wires),) if key is not None and g.key is not None and n <= DIAGONAL_RUN_QUBITS else None
    if key is not None and ("run", conj, key) in cache:
        return cache[("run", conj, key)], key
    factor = full.conj() if conj else full
    out = factor if diag is None else diag * factor
    if key is not None:
        cache[("run", conj, key)] = out
    return out, key


def block_wires(n: int, device: torch.device) -> int:
    """Wires per fused block of single-qubit gates for an ``n``-qubit state on ``device``."""
    if device.type != "cpu":
        return BLOCK_WIRES
    return next((wires for n_max, wires in CPU_BLOCK_WIRES if n <= n_max), 3)


def _chunks(n: int, size: int) -> list[tuple[int, int]]:
    """``[lo, hi)`` ranges covering ``range(n)`` in the fewest near-equal runs of ≤ ``size``.

    Examples
    --------
    >>> _chunks(10, 4)
    [(0, 4), (4, 7), (7, 10)]
    """
    m = -(-n // size)
    bounds = [k * n // m for k in range(m + 1)]
    bounds = [n - b for b in reversed(bounds)]  # larger runs first
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _kron(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Batched Kronecker product of ``[S?, p, p]`` and ``[S?, q, q]`` (a on the higher wires)."""
    p, q = a.shape[-1], b.shape[-1]
    outer = a[..., :, None, :, None] * b[..., None, :, None, :]
    return outer.reshape(outer.shape[:-4] + (p * q, p * q))


def _zero_state(batch: int, n: int, cdt, device) -> torch.Tensor:
    state = torch.zeros(batch, 1 << n, dtype=cdt, device=device)
    state[:, 0] = 1
    return state


def _complex_dtype(dtype: torch.dtype) -> tuple[torch.dtype, torch.dtype]:
    table = {torch.complex128: torch.float64, torch.complex64: torch.float32,
             torch.float64: torch.float64, torch.float32: torch.float32}
    if dtype not in table:
        raise TypeError(f"dtype={dtype} has no complex counterpart here; use torch.float64/complex128 "
                        "(default) or torch.float32/complex64")
    rdt = table[dtype]
    return (torch.complex128 if rdt == torch.float64 else torch.complex64), rdt


def simulate(ops: Sequence[Any], wires: Sequence[Any], batch: int, dtype: torch.dtype = torch.complex128,
             device: torch.device | str | None = None) -> torch.Tensor:
    """Final state vectors of ``batch`` circuits started in |0…0⟩.

    Differentiable by torch autograd when any gate parameter requires grad (then no in-place
    buffers are used and memory grows with depth; use :func:`adjoint_gradient` for gradients).

    Parameters
    ----------
    ops : sequence of PennyLane operations
        Recorded with broadcasting: each parameter a ``Tensor[batch]`` or a constant.
    wires : sequence
        Wire labels; ``wires[0]`` is the most significant qubit (PennyLane's order).
    batch : int
    dtype : torch.dtype
        complex128 (default) or complex64 (float64/float32 name the same precisions).
    device : torch device, optional

    Returns
    -------
    Tensor[batch, 2**n] complex

    Examples
    --------
    >>> import pennylane as qml
    >>> simulate([qml.PauliX(0)], wires=[0, 1], batch=1).abs().tolist()
    [[0.0, 0.0, 1.0, 0.0]]
    """
    cdt, rdt = _complex_dtype(dtype)
    n = len(wires)
    wire_map = {w: i for i, w in enumerate(wires)}
    gates = _expand(ops, wire_map, batch, rdt, device)
    grad_mode = torch.is_grad_enabled() and any(any(g.trainable) for g in gates)
    cache: dict = {}
    runner = _Runner(_zero_state(batch, n, cdt, device), n, cache, inplace=not grad_mode)
    with _cpu_threads(batch << n, runner.state.device):
        for lo in range(0, len(gates), SEGMENT):
            seg = gates[lo: lo + SEGMENT]
            mats = _Matrices(seg, cdt, cache, device)
            for g, m in zip(seg, mats.mats, strict=True):
                runner.push(g, m)
        runner.flush()
    return runner.state


class PauliSum:
    """A Pauli-sum Hamiltonian H = Σ_t c_t P_t compiled for batches of state vectors.

    Build it with :func:`pauli_sum`. A Pauli word flips the bits of its X/Y wires and
    multiplies by a phase, so the terms are grouped by flip mask and each group becomes one
    diagonal: Hψ = Σ_groups D_g ⊙ flip_g(ψ) (TFIM: n + 1 groups, Heisenberg: n). The
    diagonals (``groups`` × 2^n numbers) are built once per device and dtype.

    Attributes
    ----------
    n_qubits : int
    terms : dict[tuple[int, ...], list[tuple[complex, tuple[int, ...]]]]
        Flip wires -> [(c_t · i^{#Y}, wires where P_t has Y or Z)]; wire 0 most significant.
    """

    def __init__(self, n_qubits: int, terms: dict[tuple[int, ...], list[tuple[complex, tuple[int, ...]]]]) -> None:
        self.n_qubits, self.terms = n_qubits, terms
        self._diagonals: dict[tuple, list[tuple[tuple[int, ...], torch.Tensor]]] = {}

    def diagonals(self, device, dtype: torch.dtype) -> list[tuple[tuple[int, ...], torch.Tensor]]:
        """``[(flip wires, D[2^n])]``: D real when the group's phases are real, else ``dtype``."""
        key = (str(torch.device(device or "cpu")), dtype)
        if key not in self._diagonals:
            n = self.n_qubits
            idx = torch.arange(1 << n, device=device)
            groups = []
            for flips, words in self.terms.items():
                flip_mask = sum(1 << (n - 1 - w) for w in flips)
                d = torch.zeros(1 << n, dtype=torch.complex128, device=device)
                for coeff, zs in words:
                    # Z/Y act before the flip: the phase reads the input bit, i.e. output c ^ flips.
                    parity = torch.zeros_like(idx)
                    for w in zs:
                        parity ^= ((idx ^ flip_mask) >> (n - 1 - w)) & 1
                    d += coeff * (1 - 2 * parity).to(torch.float64)
                real = bool(d.imag.abs().max() == 0)
                cdt, rdt = _complex_dtype(dtype)
                groups.append((tuple(1 + w for w in flips), d.real.to(rdt) if real else d.to(cdt)))
            self._diagonals[key] = groups
        return self._diagonals[key]

    def apply(self, state: torch.Tensor) -> torch.Tensor:
        """Hψ for ``state[*lead, 2^n]`` (differentiable): one flip and one product per group."""
        n, lead = self.n_qubits, state.shape[:-1]
        cube = state.view(lead + (2,) * n)
        out = torch.zeros_like(state)
        for dims, d in self.diagonals(state.device, state.dtype):
            flipped = cube.flip([len(lead) - 1 + k for k in dims]).reshape(state.shape) if dims else state
            out = out.addcmul_(flipped, d)
        return out

    def expectation(self, state: torch.Tensor) -> torch.Tensor:
        """Re ⟨ψ|H|ψ⟩ per state (``[*lead, 2^n] -> [*lead]``)."""
        return _real_inner(state, self.apply(state))


def _real_inner(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Re Σ conj(a) b over the last axis."""
    return (torch.view_as_real(a) * torch.view_as_real(b)).sum((-2, -1))


def pauli_sum(observable: Any, wires: Sequence[Any]) -> PauliSum:
    """Compile a PennyLane Pauli-sum observable for the engine.

    Parameters
    ----------
    observable : PennyLane operator
        Any linear combination of Pauli words: ``qml.Hamiltonian``, ``qml.ops.Sum``,
        products and scalar products of ``qml.X/Y/Z/Identity``.
    wires : sequence
        The circuit's wire labels (``wires[0]`` most significant, as in :func:`simulate`).

    Returns
    -------
    PauliSum
        Pass it to :func:`expectation` or :func:`adjoint_gradient` in place of a diagonal.

    Examples
    --------
    >>> import pennylane as qml
    >>> h = pauli_sum(qml.Z(0) @ qml.Z(1) + 0.5 * qml.X(1), wires=[0, 1])
    >>> state = simulate([qml.Hadamard(1)], wires=[0, 1], batch=1)
    >>> round(expectation(state, h).item(), 12)
    0.5
    """
    import pennylane as qml  # the engine itself needs only torch

    wire_map = {w: i for i, w in enumerate(wires)}
    try:
        sentence = qml.pauli.pauli_sentence(observable)
    except (ValueError, TypeError) as err:
        raise ValueError(f"observable {observable!r} is not a sum of Pauli words; use qml.Hamiltonian or "
                         "sums/products of qml.X, qml.Y, qml.Z, qml.Identity (or a diagonal tensor)") from err
    terms: dict[tuple[int, ...], list[tuple[complex, tuple[int, ...]]]] = {}
    for word, coeff in sentence.items():
        unknown = [w for w in word if w not in wire_map]
        if unknown:
            raise ValueError(f"observable acts on wire {unknown[0]!r}; circuit wires are {list(wire_map)}")
        flips = tuple(sorted(wire_map[w] for w, p in word.items() if p in ("X", "Y")))
        zs = tuple(sorted(wire_map[w] for w, p in word.items() if p in ("Y", "Z")))
        n_y = sum(p == "Y" for p in word.values())
        # Y = i X Z: the i's collect into the coefficient.
        terms.setdefault(flips, []).append((complex(coeff) * 1j ** n_y, zs))
    return PauliSum(len(wires), terms)


def expectation(state: torch.Tensor, observable: torch.Tensor | PauliSum) -> torch.Tensor:
    """⟨ψ|H|ψ⟩ per sample: ``observable`` a real diagonal ``Tensor[2^n]`` or a :class:`PauliSum`."""
    if isinstance(observable, PauliSum):
        return observable.expectation(state)
    probs = torch.view_as_real(state).square().sum(-1)
    return probs @ observable.to(probs.dtype)


def _seed_adjoint(psi: torch.Tensor, observable: torch.Tensor | PauliSum,
                  rdt: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Cost ⟨ψ|H|ψ⟩ and λ = Hψ for the adjoint pass."""
    if isinstance(observable, PauliSum):
        lam = observable.apply(psi)
        return _real_inner(psi, lam), lam
    diag = observable.to(device=psi.device, dtype=rdt)
    return expectation(psi, diag), psi * diag


def _pull_back(seg: Sequence[_Gate], mats: _Matrices, grad_u: dict[int, torch.Tensor], params: torch.Tensor,
               grad: torch.Tensor) -> None:
    """Add a segment's partials to ``grad`` from ``grad_u[i] = dC/dU_i`` (torch's convention).

    ∂C/∂p = Re Σ conj(dC/dU) ⊙ dU/dp: closed-form dU/dp for the :data:`BUILDERS` gates, one
    vectorised call per kind and parameter; autograd (of one real scalar) for other gates.
    A gate parameter that is a column of ``params`` (a plain view, as the ansätze record
    them) is added to that column; a computed one is pulled back by autograd through the
    recording, which materialises a full ``[S, P]`` gradient per segment.
    """
    found: list[tuple[torch.Tensor | int, torch.Tensor]] = []  # (gate parameter, ∂C/∂parameter [S])
    for name, (idx, stacked) in mats.kinds.items():
        rows = [r for r, i in enumerate(idx) if i in grad_u]
        if not rows:
            continue
        sel = torch.tensor(rows, device=grad.device)
        g_c = torch.stack([grad_u[idx[r]] for r in rows])
        g_u = torch.view_as_real(g_c)
        picked = [s.index_select(0, sel) for s in stacked]
        for j in range(len(stacked)):
            d_u = _derivative(name, picked, j, g_c.dtype)
            if d_u is None:
                continue
            part = (g_u * torch.view_as_real(d_u)).sum((-3, -2, -1))  # [rows, S]
            gate_params = [seg[idx[r]].params[j] for r in rows]
            trainable = [seg[idx[r]].trainable[j] for r in rows]
            if all(trainable) and all(isinstance(p, int) for p in gate_params):
                grad.index_add_(1, torch.tensor(gate_params, device=grad.device), part.T.to(grad.dtype))
            else:
                found.extend((p, v) for p, v, t in zip(gate_params, part, trainable, strict=True) if t)
    generic = [i for i in mats.leaves if i in grad_u]
    roots = [leaf for i in generic for leaf in mats.leaves[i] if leaf.requires_grad]
    if roots:
        # One real scalar Σ Re(conj(G) ⊙ U): its gradient is the vector-Jacobian product.
        scalar = torch.stack([(torch.view_as_real(grad_u[i]) * torch.view_as_real(mats.mats[i])).sum()
                              for i in generic]).sum()
        by_leaf = dict(zip(map(id, roots), torch.autograd.grad(scalar, roots, allow_unused=True), strict=True))
        for i in generic:
            for leaf, p in zip(mats.leaves[i], seg[i].params, strict=True):
                if by_leaf.get(id(leaf)) is not None:
                    found.append((p, by_leaf[id(leaf)]))
    cols = [(p, v) for p, v in found if isinstance(p, int)]
    if cols:
        grad.index_add_(1, torch.tensor([p for p, _ in cols], device=grad.device),
                        torch.stack([v for _, v in cols], 1).to(grad.dtype))
    computed = [(p, v) for p, v in found if not isinstance(p, int)]
    if computed:
        # A real scalar again (no grad_outputs: their checks import sympy on first use).
        scalar = torch.stack([(p * v.to(p.dtype)).sum() for p, v in computed]).sum()
        (part,) = torch.autograd.grad(scalar, params, retain_graph=True, allow_unused=True)
        if part is not None:
            grad += part


def adjoint_gradient(ops: Sequence[Any] | Program, wires: Sequence[Any], batch: int,
                     observable: torch.Tensor | PauliSum, params: torch.Tensor,
                     dtype: torch.dtype = torch.complex128) -> tuple[torch.Tensor, torch.Tensor]:
    """Costs ⟨H⟩ and their gradients with respect to ``params`` by the adjoint method.

    Parameters
    ----------
    ops : sequence of PennyLane operations, or Program
        Recorded from ``params`` (requires_grad) with broadcasting over ``batch`` samples.
        Read once: the engine keeps what it needs (plain columns of ``params`` by number),
        so a recording the caller does not keep is freed before the states are allocated.
        Or a reusable :class:`Program` compiled from a recording of the same layout.
    wires, batch, dtype
        As in :func:`simulate`.
    observable : Tensor[2**n] or PauliSum
        The observable's real diagonal in the computational basis, or a Pauli sum from
        :func:`pauli_sum` (λ = Hψ is then built from bit flips and phases).
    params : Tensor[batch, P]
        The tensor the operations' parameters were computed from.

    Returns
    -------
    cost : Tensor[batch]
    grad : Tensor[batch, P]
        Per-sample gradients (samples are independent circuits).
    """
    cdt, rdt = _complex_dtype(dtype)
    n = len(wires)
    device = params.device
    with _cpu_threads(2 * batch << n, device):
        compiled = isinstance(ops, Program)
        program = ops if isinstance(ops, Program) else compile_ops(ops, wires, batch, cdt, device, source=params)
        del ops  # the gates hold what they need: a caller that kept no reference frees the recording
        if (program.n_qubits, program.batch, program.cdt) != (n, batch, cdt):
            raise ValueError(f"the program was compiled for {program.n_qubits} qubits, batch {program.batch}, "
                             f"{program.cdt}; this call has {n}, {batch}, {cdt}")
        # Dense steps for a program the caller compiled (and keeps): their layout is worked out once.
        if compiled and n <= dense_layers.DENSE_QUBITS and (steps := dense_layers.schedule(program, device)):
            return dense_layers.adjoint(program, steps, params, observable)
        gates, cache = program.gates, program.cache
        with torch.no_grad():
            runner = _Runner(_zero_state(batch, n, cdt, device), n, cache, inplace=True)
            for lo in range(0, len(gates), SEGMENT):
                seg = gates[lo: lo + SEGMENT]
                for g, m in zip(seg, _Matrices(seg, cdt, cache, device, source=params).mats, strict=True):
                    runner.push(g, m)
            runner.flush()
            psi = runner.state
            cost, lam = _seed_adjoint(psi, observable, rdt)
            pair = torch.stack([psi, lam])
            del runner, psi, lam
        undo = _Undo(pair, n, cache)
        del pair
        grad = torch.zeros_like(params)
        for hi in range(len(gates), 0, -SEGMENT):
            seg = gates[max(0, hi - SEGMENT): hi]
            mats = _Matrices(seg, cdt, cache, device, leaves=True, source=params)
            grad_u: dict[int, torch.Tensor] = {}
            with torch.no_grad():
                for i in range(len(seg) - 1, -1, -1):
                    g, u = seg[i], mats.mats[i]
                    full = _full_diagonal(g, u, n, cache) if g.fixed and len(g.wires) <= 3 else None
                    if full is not None:
                        undo.diagonal(g, full, grad_u)
                    elif len(g.wires) == 1:
                        undo.single(i, g, u, grad_u)
                    else:
                        undo.gate(i, g, u, grad_u)
                undo.flush(grad_u)
            if grad_u:
                _pull_back(seg, mats, grad_u, params, grad)
        return cost, grad


class _Undo:
    """The adjoint pass's state: the pair (ψ, λ), undone gate by gate, with fusion.

    Diagonal gates are collected into one pending diagonal. Single-qubit gates on distinct
    wires that follow each other (a layer) are collected into a group: they commute, so the
    reduced matrix M_w = Σ_rest λ ψ^† of each group wire can be read at the group's end
    (the other group gates act on the rest as the same unitary on ψ and λ, which the
    partial trace removes), and dC/dU_w = 2 M_w U_w. The reduced matrices of neighbouring
    wires come from one pass per block of wires (:func:`block_wires`, as in the forward
    pass), and the group is undone by one Kronecker product per block.
    """

    def __init__(self, pair: torch.Tensor, n: int, cache: dict) -> None:
        self.pair, self.buf, self.n, self.cache = pair, torch.empty_like(pair), n, cache
        self.block_wires = block_wires(n, pair.device)
        self.diag: torch.Tensor | None = None
        self.diag_key: tuple | None = ()
        self.group: dict[int, tuple[int, _Gate, torch.Tensor]] = {}

    def _apply(self, u: torch.Tensor, wires: Sequence[int]) -> None:
        res = _apply(self.pair, u, wires, self.n, self.buf)
        self.pair, self.buf = res, self.pair

    def _apply_diag(self) -> None:
        if self.diag is not None:
            self.pair.mul_(self.diag)
            self.diag, self.diag_key = None, ()

    def diagonal(self, g: _Gate, full: torch.Tensor, grad_u: dict[int, torch.Tensor]) -> None:
        self.flush(grad_u)
        self.diag, self.diag_key = _times(self.cache, self.n, self.diag, self.diag_key, g, full, True)

    def single(self, i: int, g: _Gate, u: torch.Tensor, grad_u: dict[int, torch.Tensor]) -> None:
        if g.wires[0] in self.group:
            self.flush(grad_u)
        self._apply_diag()
        self.group[g.wires[0]] = (i, g, u)

    def gate(self, i: int, g: _Gate, u: torch.Tensor, grad_u: dict[int, torch.Tensor]) -> None:
        self.flush(grad_u)
        self._apply_diag()
        self._apply(u.conj().mT, g.wires)
        if any(g.trainable):
            # dC/dU (torch's convention for complex inputs) = 2 λ ψ_{k-1}^†, λ before undoing U.
            grad_u[i] = 2 * u @ _reduced(self.pair, g.wires, self.n)

    def flush(self, grad_u: dict[int, torch.Tensor]) -> None:
        """Partials of the grouped gates, then undo them block by block."""
        if len(self.group) == self.n:
            self._rotating(grad_u)
            return
        wires = sorted(self.group)
        while wires:
            block = wires[:1]
            while len(block) < min(self.block_wires, len(wires)) and wires[len(block)] == block[-1] + 1:
                block.append(wires[len(block)])
            wires = wires[len(block):]
            u = self._block(block, _reduced(self.pair, block, self.n), grad_u)
            self._apply(u.conj().mT, block)
        self.group = {}

    def _block(self, block: list[int], reduced: torch.Tensor, grad_u: dict[int, torch.Tensor]) -> torch.Tensor:
        """dC/dU of the block's trainable gates from its reduced matrix; the block's Kronecker product."""
        entries = [self.group[w] for w in block]
        for q, (i, g, u) in enumerate(entries):
            if any(g.trainable):
                grad_u[i] = 2 * _partial_trace(reduced, q, len(block)) @ u
        u = entries[0][2]
        for _, _, v in entries[1:]:
            u = _kron(u, v)
        return u

    def _rotating(self, grad_u: dict[int, torch.Tensor]) -> None:
        # Every wire has a gate (a layer): as in the forward pass, each block is read and
        # undone on the LAST wires as U^† @ x.mT (large GEMMs, no strided views), which moves
        # its wires to the front; taking the blocks from the last one back restores the order.
        lead = self.pair.shape[:-1]
        for lo, hi in reversed(_chunks(self.n, self.block_wires)):
            d = 1 << (hi - lo)
            x = self.pair.view(lead + (-1, d))
            u = self._block(list(range(lo, hi)), x[1].mT @ x[0].conj(), grad_u)
            out = self.buf.view(lead + (d, -1))
            torch.matmul(u.conj().mT, x.mT, out=out)
            self.pair, self.buf = out.view(self.pair.shape), self.pair
        self.group = {}


def _partial_trace(m: torch.Tensor, q: int, k: int) -> torch.Tensor:
    """``[..., 2, 2]``: the reduced matrix of wire ``q`` of a ``[..., 2^k, 2^k]`` block matrix."""
    if k == 1:
        return m
    a, b = 1 << q, 1 << (k - q - 1)
    v = m.reshape(m.shape[:-2] + (a, 2, b, a, 2, b))
    return torch.diagonal(torch.diagonal(v, dim1=-6, dim2=-3), dim1=-4, dim2=-2).sum((-2, -1))


def available_memory() -> int | None:
    """Bytes of memory the system can still hand out (Linux ``MemAvailable``), or None."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:.3g} GiB"


def check_amplitudes(n_qubits: int, bytes_per_amplitude: int, what: str) -> None:
    """Raise ValueError, before allocating, when ``what`` (2^n numbers) exceeds the memory available.

    Examples
    --------
    >>> check_amplitudes(10, 16, "a state")
    >>> check_amplitudes(100, 8, "the diagonal")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: the diagonal on 100 qubits needs 2^100 x 8 bytes = 1.01e+31 bytes, ...
    """
    needed = (1 << n_qubits) * bytes_per_amplitude
    available = available_memory()
    if available is not None and needed > available:
        raise ValueError(f"{what} on {n_qubits} qubits needs 2^{n_qubits} x {bytes_per_amplitude} bytes = "
                         f"{needed:.3g} bytes, more than the {_gib(available)} available; use fewer qubits, "
                         "or a method that does not build 2^n-sized objects (light cones for local costs, "
                         "Pauli paths)")


def chunk_size(n_qubits: int, mode: str, dtype: torch.dtype = torch.complex128,
               max_memory: int = DEFAULT_MAX_MEMORY, copies: int = 1) -> int:
    """Samples per batch so that ``copies`` × the state memory of ``mode`` fits ``max_memory``.

    Raises ValueError, with the bytes needed and what to change, when one sample does not
    fit ``max_memory`` or the memory available.

    Examples
    --------
    >>> chunk_size(10, "forward", max_memory=2**30)
    21845
    >>> chunk_size(28, "adjoint", max_memory=2**30)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: one sample of the adjoint pass on 28 qubits needs 24 GiB (6 state vectors of 2^28 complex128 ...
    """
    if mode not in STATES_PER_SAMPLE:
        raise ValueError(f"mode={mode!r} is not allowed; use one of {sorted(STATES_PER_SAMPLE)}")
    cdt, _ = _complex_dtype(dtype)
    states = STATES_PER_SAMPLE[mode] * copies
    per_sample = (1 << n_qubits) * amplitude_bytes(dtype) * states
    available = available_memory()
    limit = memory_limit(max_memory)
    if per_sample > limit:
        smaller = " or complex64 (dtype=torch.float32)" if cdt == torch.complex128 else ""
        raise ValueError(f"one sample of the {mode} pass on {n_qubits} qubits needs {_gib(per_sample)} "
                         f"({states} state vectors of 2^{n_qubits} {str(cdt).replace('torch.', '')} amplitudes), "
                         f"more than max_memory={max_memory} ({_gib(max_memory)})"
                         + ("" if available is None else f" / the {_gib(available)} available")
                         + f"; raise max_memory if the machine has it, or use fewer qubits{smaller}")
    return limit // per_sample


def amplitude_bytes(dtype: torch.dtype) -> int:
    """Bytes of one complex amplitude for a model ``dtype`` (16 for float64/complex128)."""
    return torch.empty((), dtype=_complex_dtype(dtype)[0]).element_size()


def memory_limit(max_memory: int) -> int:
    """The bytes a batch may use: ``max_memory``, or the memory available when that is less."""
    available = available_memory()
    return max_memory if available is None else min(max_memory, available)


__all__ = ["simulate", "expectation", "adjoint_gradient", "compile_ops", "Program", "pauli_sum", "PauliSum",
           "chunk_size", "amplitude_bytes", "memory_limit", "BUILDERS", "DEFAULT_MAX_MEMORY", "available_memory",
           "check_amplitudes"]
