"""Backward light cones of a Pauli-sum cost: dead parameters, and simulation per term.

A cost H = Σ_t c_t P_t that is a sum of Pauli words depends, term by term, only on the gates
that can reach the term's wires going backward in time (its backward light cone): ⟨P_t⟩ is
the expectation of P_t in the state that those gates alone prepare on the cone's wires. So

- a trainable parameter outside every term's cone has a zero partial for every parameter
  value (:func:`dead_parameters`; it also follows each term's Pauli words through Clifford
  gates and rotations, which finds more: in ``hardware_efficient`` with ``zz`` the CNOT
  ladder maps Z₀Z₁ to Z₁, so qubit 0's last rotations are dead);
- ⟨H⟩ and its gradient can be simulated per group of terms with equal cones on the cone's
  qubits only (:func:`cone_expectation`, :func:`cone_gradient`): a local cost on a shallow
  brickwork circuit needs 2^(cone width) amplitudes per term, not 2^n, so n = 100 runs.

:func:`lightcone_plan` tells whether a model's cost splits this way and whether it pays;
:func:`model_cost` and :func:`model_grad` are what :class:`qcgrad.quantum.CircuitModel`
dispatches to; when the cones are wide but the circuit's cuts are thin (a CNOT staircase),
:func:`use_lightcone` picks the exact MPS route of :mod:`qcgrad.quantum.mps` instead.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

import numpy as np
import torch

from . import dense_layers, engine, mps

#: A term's Pauli words are tracked exactly (as a superset of the words of its Heisenberg-
#: evolved form) up to this many; beyond it, the term's wires (support) are tracked instead.
MAX_WORDS = 512
#: Pauli codes: I, X, Y, Z.
_PAULI = "IXYZ"
#: Single-Pauli generators of rotations exp(−iθP/2) (PhaseShift: Z up to a global phase).
_GENERATORS = {"RX": (1,), "RY": (2,), "RZ": (3,), "PhaseShift": (3,), "AxisRotation": (1, 2, 3)}
_MATRICES = (np.eye(2), np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.diag([1.0, -1.0]))
#: Product of two distinct non-identity Paulis (up to phase): the third one.
_THIRD = {(1, 2): 3, (2, 1): 3, (1, 3): 2, (3, 1): 2, (2, 3): 1, (3, 2): 1}


# --- observable terms --------------------------------------------------------------------------

def pauli_terms(observable: Any, wires: Sequence[Any]) -> list[tuple[float, dict[int, str]]] | None:
    """``[(coefficient, {wire position: "X"|"Y"|"Z"})]`` of a Pauli-sum observable, or None
    when it is not a sum of Pauli words (a projector, a dense matrix).

    Examples
    --------
    >>> import pennylane as qml
    >>> pauli_terms(qml.Z(0) @ qml.Z(1) + 0.5 * qml.X(1), [0, 1])
    [(1.0, {0: 'Z', 1: 'Z'}), (0.5, {1: 'X'})]
    """
    import pennylane as qml

    if any(getattr(op, "name", "") == "Projector" for op in _leaves(observable)):
        return None  # its Pauli sentence has 2^k words: not a sum of local terms
    try:
        sentence = qml.pauli.pauli_sentence(observable)
    except (ValueError, TypeError):
        return None
    position = {w: i for i, w in enumerate(wires)}
    terms = []
    for word, coeff in sentence.items():
        c = complex(coeff)
        if c.imag != 0:
            return None
        terms.append((c.real, {position[w]: p for w, p in word.items() if p != "I"}))
    return terms


def _leaves(op: Any) -> list:
    children = getattr(op, "operands", None)
    if children is None and hasattr(op, "base"):
        children = [op.base]
    return [op] if not children else [leaf for child in children for leaf in _leaves(child)]


# --- cones -------------------------------------------------------------------------------------

def wire_cone(op_wires: Sequence[Sequence[int]], support: Sequence[int]) -> tuple[list[int], list[int]]:
    """Operations (indices, in order) that can reach ``support`` going backward, and the wires
    they act on (sorted) together with ``support``.

    Examples
    --------
    >>> wire_cone([(0,), (1,), (0, 1), (2,)], [1])
    ([0, 1, 2], [0, 1])
    """
    reach = set(support)
    inside = []
    for k in range(len(op_wires) - 1, -1, -1):
        if reach.intersection(op_wires[k]):
            reach.update(op_wires[k])
            inside.append(k)
    return inside[::-1], sorted(reach)


@dataclass(frozen=True)
class Plan:
    """How a model's cost splits into light cones.

    Attributes
    ----------
    reason : str or None
        Why the cost does not split (None: it does).
    constant : float
        The identity term's coefficient.
    groups : list of (op indices, cone wires, terms)
        Terms with equal cones, simulated together.
    columns : list of set[int]
        Per group, the parameter columns its cone's gates depend on.
    pays : bool
        Whether the cones hold fewer amplitudes than half the full state's.
    """

    reason: str | None
    constant: float = 0.0
    groups: tuple = ()
    pays: bool = False
    columns: tuple = ()

    @property
    def width(self) -> int:
        """Qubits of the widest cone."""
        return max((len(w) for _, w, _ in self.groups), default=0)

    @property
    def summary(self) -> str:
        """One line for ``describe()``."""
        return f"cones of <= {self.width} qubits"


def lightcone_plan(model, *, columns: bool = True, ops: Sequence[Any] | None = None) -> Plan:
    """The light-cone split of a :class:`qcgrad.quantum.CircuitModel`'s cost (see :class:`Plan`).

    ``columns=False`` leaves ``Plan.columns`` empty (the per-operation autograd that finds
    them is most of the plan's cost), for deciding whether cones pay; ``ops``: the model's
    recording at one sample, when the caller has it.

    Examples
    --------
    >>> import qcgrad as qg
    >>> plan = lightcone_plan(qg.quantum.circuit("alternating_layered", 12, 1, cost="local"))
    >>> plan.reason, plan.width, plan.pays
    (None, 2, True)
    """
    if model.noise is not None or model.shots is not None:
        return Plan("light cones run exact noiseless expectations; this model has noise or shots")
    terms = pauli_terms(model.cost_spec.observable(model.wires), model.wires)
    if terms is None:
        return Plan(f"cost={model.cost_spec.name!r} is not a sum of Pauli words")
    if ops is None or columns:
        ops, op_columns = _structure_ops(model, columns)
    # Barriers order nothing in a simulation: they reach no wire.
    op_wires = [() if op.name in ("Barrier", "Identity") else tuple(op.wires.tolist()) for op in ops]
    constant = 0.0
    groups: dict[tuple[tuple[int, ...], tuple[int, ...]], list[tuple[float, dict[int, str]]]] = {}
    for coeff, word in terms:
        if not word:
            constant += coeff
            continue
        inside, cone = wire_cone(op_wires, sorted(word))
        groups.setdefault((tuple(inside), tuple(cone)), []).append((coeff, word))
    plan = tuple((list(k[0]), list(k[1]), v) for k, v in groups.items())
    amplitudes = sum(1 << len(cone) for _, cone, _ in plan)
    found = tuple(set().union(*(op_columns[k] for k in indices)) for indices, _, _ in plan) if columns else ()
    return Plan(None, constant, plan, pays=2 * amplitudes < 1 << model.n_qubits, columns=found)


def _structure_ops(model, columns: bool = True) -> tuple[list, list[set[int]]]:
    """The model's recorded operations at one parameter sample (the structure is the same
    for every sample: parameters change angles and axes, never wires), and the parameter
    columns each depends on (empty without ``columns``)."""
    params = model.sample_params(torch.Generator().manual_seed(0), 2).requires_grad_(columns)
    with torch.enable_grad():
        ops = model._record(params)
        found: list[set[int]] = []
        for op in ops if columns else ():
            data = [d for d in op.data if isinstance(d, torch.Tensor) and d.requires_grad]
            if not data:
                found.append(set())
                continue
            grad = torch.autograd.grad(torch.stack([d.sum() for d in data]).sum(), params, retain_graph=True)[0]
            found.append(set(grad.abs().sum(0).nonzero()[:, 0].tolist()))
    return ops, found


# --- simulation per cone -----------------------------------------------------------------------

def _cone_observable(terms: list[tuple[float, dict[int, str]]], cone: list[int]) -> engine.PauliSum:
    import pennylane as qml

    local = {w: i for i, w in enumerate(cone)}
    paulis = {"X": qml.X, "Y": qml.Y, "Z": qml.Z}
    words = [qml.prod(*(paulis[p](local[w]) for w, p in sorted(word.items()))) for _, word in terms]
    return engine.pauli_sum(qml.Hamiltonian([c for c, _ in terms], words), list(range(len(cone))))


def _relabel(ops: Sequence[Any], indices: list[int], cone: list[int]) -> list:
    local = {w: i for i, w in enumerate(cone)}
    return [ops[k].map_wires(local) for k in indices]


def cone_expectation(ops: Sequence[Any], plan: Plan, batch: int, dtype: torch.dtype = torch.complex128,
                     device: torch.device | str | None = None) -> torch.Tensor:
    """⟨H⟩ per sample from ``plan``'s cones, each simulated on its own qubits.

    ``ops`` are recorded on wire positions 0..n−1 with broadcasting over ``batch``, as for
    ``qcgrad.quantum.engine.simulate``.
    """
    _, rdt = engine._complex_dtype(dtype)
    total = torch.full((batch,), plan.constant, dtype=rdt, device=device)
    for indices, cone, terms in plan.groups:
        state = engine.simulate(_relabel(ops, indices, cone), list(range(len(cone))), batch, dtype, device)
        total = total + engine.expectation(state, _cone_observable(terms, cone))
    return total


def cone_gradient(ops: Sequence[Any], plan: Plan, batch: int, params: torch.Tensor,
                  dtype: torch.dtype = torch.complex128) -> tuple[torch.Tensor, torch.Tensor]:
    """⟨H⟩ and its gradient with respect to ``params`` from ``plan``'s cones.

    Each cone runs ``qcgrad.quantum.engine.adjoint_gradient`` on its qubits, so a
    parameter gets contributions only from the terms whose cones contain its gates.
    """
    _, rdt = engine._complex_dtype(dtype)
    cost = torch.full((batch,), plan.constant, dtype=rdt, device=params.device)
    grad = torch.zeros_like(params)
    for indices, cone, terms in plan.groups:
        c, g = engine.adjoint_gradient(_relabel(ops, indices, cone), list(range(len(cone))), batch,
                                       _cone_observable(terms, cone), params, dtype)
        cost, grad = cost + c, grad + g
    return cost, grad


def use_lightcone(model, lightcone: bool | str) -> Plan | mps.MpsPlan | None:
    """The plan to run, or None for the full engine, for the knob ``lightcone``:

    - ``"auto"``: light cones when the cost splits and they pay, else the exact MPS route
      (:mod:`qcgrad.quantum.mps`) when it pays, else the full engine;
    - True: light cones when they pay, else the MPS route when it applies and fits the
      memory budget, else light cones when the cost splits at all; else a warning that says
      why, and the full engine;
    - False: the full engine.

    ``"auto"`` keeps the full engine for circuits of at most
    ``qcgrad.quantum.dense_layers.DENSE_QUBITS`` qubits without planning: their states are
    a few dozen amplitudes, so planning alone would cost more than a call saves.
    """
    if lightcone is False or model.device != "engine":
        return None
    if lightcone == "auto" and model.n_qubits <= dense_layers.DENSE_QUBITS:
        return None
    ops = _structure_ops(model, columns=False)[0]
    plan = lightcone_plan(model, columns=False, ops=ops)
    if plan.reason is None and plan.pays:
        return lightcone_plan(model)
    chain = mps.mps_plan(model, ops=ops)
    if chain.reason is None and (chain.pays or (lightcone is True and chain.fits)):
        return chain
    if lightcone is not True:
        return None
    if plan.reason is None:
        return lightcone_plan(model)
    why = plan.reason if chain.reason in (None, plan.reason) else f"{plan.reason}; the MPS route: {chain.reason}"
    warnings.warn(f"lightcone=True: {why}; running the full engine", stacklevel=3)
    return None


def _chunked(model, plan: Plan, params: torch.Tensor, mode: str, fn) -> torch.Tensor:
    step = engine.chunk_size(plan.width, mode, model.dtype, model.max_memory)
    return torch.cat([fn(params[lo: lo + step]) for lo in range(0, params.shape[0], step)])


def model_cost(model, plan: Plan | mps.MpsPlan, params: torch.Tensor) -> torch.Tensor:
    """``CircuitModel.cost`` by light cones, or by the MPS route for an
    :class:`~qcgrad.quantum.mps.MpsPlan` (differentiable by autograd)."""
    if isinstance(plan, mps.MpsPlan):
        return mps.model_cost(model, plan, params)
    return _chunked(model, plan, params, "forward", lambda p: cone_expectation(
        model._record(p), plan, p.shape[0], model.dtype, p.device))


def model_grad(model, plan: Plan | mps.MpsPlan, params: torch.Tensor,
               indices: Sequence[int] | None = None) -> torch.Tensor:
    """``CircuitModel.grad`` by light cones and the adjoint method: ``[S, n_params]``, or
    ``[S, k]`` for ``indices``, which simulates only the cones that contain them. An
    :class:`~qcgrad.quantum.mps.MpsPlan` runs the MPS route (all partials in one backward pass)."""
    if isinstance(plan, mps.MpsPlan):
        return mps.model_grad(model, plan, params, indices)
    if indices is not None:
        if plan.groups and not plan.columns:
            raise ValueError("this plan was built with columns=False, so it cannot select the cones of "
                             "requested partials; build it with lightcone_plan(model)")
        wanted = {int(i) for i in indices}
        keep = [k for k, cols in enumerate(plan.columns) if cols & wanted]
        plan = Plan(None, 0.0, tuple(plan.groups[k] for k in keep), plan.pays,
                    tuple(plan.columns[k] for k in keep))

    def grad(p: torch.Tensor) -> torch.Tensor:
        p = p.detach().requires_grad_(True)
        with torch.enable_grad():
            return cone_gradient(model._record(p), plan, p.shape[0], p, model.dtype)[1]

    g = _chunked(model, plan, params, "adjoint", grad) if plan.groups else torch.zeros_like(params)
    g = g * model.trainable.to(g.device)
    return g if indices is None else g[:, torch.as_tensor(list(indices), dtype=torch.long)]


# --- dead parameters ---------------------------------------------------------------------------

def dead_parameters(model) -> torch.Tensor:
    """Trainable parameters whose partial is zero for every parameter value, by structure.

    A parameter is dead when none of its gates acts non-trivially on the Heisenberg-evolved
    terms of the cost: for each term, its Pauli words are followed backward through the
    circuit (a superset of them: Clifford gates map words to words, a rotation exp(−iθP/2)
    maps a word that anticommutes with P to it and its product with P, other gates to every
    word on their wires), and a gate is live for the term when it can change one of them.
    Above :data:`MAX_WORDS` words a term falls back to its wire cone (every gate touching
    the wires reached so far is live). Frozen and constant parameters are never called dead.
    A cost that is not a Pauli sum has no dead parameters here.

    Returns
    -------
    Tensor[n_params] bool

    Examples
    --------
    >>> import qcgrad as qg
    >>> dead_parameters(qg.quantum.circuit("hardware_efficient", 3, 1, cost="zz")).tolist()
    [True, False, True, True, True, True]
    """
    dead = torch.zeros(model.n_params, dtype=torch.bool)
    terms = pauli_terms(model.cost_spec.observable(model.wires), model.wires)
    if terms is None:
        return dead
    gates, columns, matrices = _structure_gates(model)
    live = torch.zeros(model.n_params, dtype=torch.bool)
    for _, word in terms:
        if word:
            for k in _live_gates(gates, matrices, word, model.n_qubits):
                live[columns[k]] = True
    return model.trainable.cpu() & ~live


def _structure_gates(model) -> tuple[list, list[list[int]], list]:
    """Engine gates at one sample, the parameter columns each depends on, their matrices."""
    params = model.sample_params(torch.Generator().manual_seed(0), 2).requires_grad_(True)
    with torch.enable_grad():
        ops = model._record(params)
        gates = engine._expand(ops, {w: i for i, w in enumerate(model.wires)}, 2, torch.float64, None, source=params)
        columns = []
        for g in gates:
            cols: set[int] = set()
            for p, t in zip(g.params, g.trainable, strict=True):
                if isinstance(p, int):
                    cols.add(p)
                elif t:  # a computed parameter: the columns it depends on
                    (d,) = torch.autograd.grad(p.sum(), params, retain_graph=True, allow_unused=True)
                    if d is not None:
                        cols.update(d.abs().sum(0).nonzero()[:, 0].tolist())
            columns.append(sorted(cols))
    mats = engine._Matrices(gates, torch.complex128, {}, None, source=params.detach()).mats
    constant = [not any(g.trainable) and all(isinstance(p, torch.Tensor) and (p.dim() == 0 or p.stride(0) == 0)
                                             for p in g.params) for g in gates]
    matrices = [(m if m.dim() == 2 else m[0]).detach().numpy() if g.fixed or c else None
                for g, m, c in zip(gates, mats, constant, strict=True)]
    return gates, columns, matrices


def _live_gates(gates: list, matrices: list, word: dict[int, str], n: int) -> set[int]:
    """Indices of the gates that can change the Heisenberg-evolved ``word``."""
    words = {tuple(_PAULI.index(word.get(w, "I")) for w in range(n))}
    support: set[int] | None = None  # set once the words are given up for wires
    live: set[int] = set()
    cache: dict = {}
    for k in range(len(gates) - 1, -1, -1):
        g = gates[k]
        if support is not None:
            if support.intersection(g.wires):
                support.update(g.wires)
                live.add(k)
            continue
        touched = [w for w in words if any(w[q] for q in g.wires)]
        if not touched:
            continue
        if matrices[k] is not None:  # fixed or constant gate: conjugate the words exactly
            words = _conjugate(words, g.wires, matrices[k], cache, id(g))
        elif g.name in _GENERATORS and len(g.wires) == 1:
            q, axes = g.wires[0], _GENERATORS[g.name]
            new = set(words)
            for w in touched:
                for a in axes:
                    if w[q] != a:  # anticommutes: the rotation mixes in the product word
                        live.add(k)
                        new.add(w[:q] + (_THIRD[(w[q], a)],) + w[q + 1:])
            words = new
        else:  # any other parametrised gate: every word on its wires
            live.add(k)
            new = set(words)
            for w in touched:
                for local in product(range(4), repeat=len(g.wires)):
                    if any(local):
                        v = list(w)
                        for q, p in zip(g.wires, local, strict=True):
                            v[q] = p
                        new.add(tuple(v))
            words = new
        if len(words) > MAX_WORDS:
            support = {q for w in words for q in range(n) if w[q]}
    return live


def _conjugate(words: set, wires: tuple[int, ...], u: np.ndarray, cache: dict, key: int) -> set:
    """The words of U† P U for every P in ``words`` (U on ``wires``, first wire most significant)."""
    out = set()
    for w in words:
        local = tuple(w[q] for q in wires)
        if not any(local):
            out.add(w)
            continue
        if (key, local) not in cache:
            p = _MATRICES[local[0]]
            for c in local[1:]:
                p = np.kron(p, _MATRICES[c])
            m = u.conj().T @ p @ u
            found = []
            for cand in product(range(4), repeat=len(wires)):
                pc = _MATRICES[cand[0]]
                for c in cand[1:]:
                    pc = np.kron(pc, _MATRICES[c])
                if abs(np.trace(pc @ m)) > 1e-12:
                    found.append(cand)
            cache[(key, local)] = found
        for cand in cache[(key, local)]:
            v = list(w)
            for q, c in zip(wires, cand, strict=True):
                v[q] = c
            out.add(tuple(v))
    return out


__all__ = ["pauli_terms", "wire_cone", "Plan", "lightcone_plan", "cone_expectation", "cone_gradient",
           "use_lightcone", "model_cost", "model_grad", "dead_parameters", "MAX_WORDS"]
