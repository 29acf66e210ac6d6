"""Read a circuit model into the Pauli-path problem: gate steps, initial product state, cost terms.

The model's operations are recorded the way the engine records them, twice: with every
parameter θ_k set to k + 2 and to (k + 2)². A gate angle that reads ±(k + 2) and then
±(k + 2)² is ±θ_k of one parameter; one that reads the same both times is a constant; any
other angle (a sum, a multiple, a shared parameter) is refused. Templates are decomposed
until every operation is a Pauli rotation, a Clifford gate, or a fixed gate on a qubit of
the still unentangled initial product state (absorbed into ρ).

Examples
--------
>>> import qcgrad as qg
>>> problem = read(qg.quantum.circuit("tensor_product", n_qubits=2, cost="local"))
>>> [step.name for step in problem.steps], problem.terms.shape
(['RX', 'RX'], (2, 2))
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pennylane as qml
import torch

from ..ansatze import ANSATZ_SPECS
from ..inits import parse_init
from .pauli import LETTERS, clifford_table

#: Rotation gate name -> Pauli word of its generator: gate = exp(−iθP/2) (up to global phase).
ROTATIONS = {"RX": "X", "RY": "Y", "RZ": "Z", "PhaseShift": "Z", "U1": "Z",
             "IsingXX": "XX", "IsingYY": "YY", "IsingZZ": "ZZ"}
SKIPPED = ("Barrier", "Identity", "Snapshot", "GlobalPhase")
#: Most Pauli terms of a cost expansion (the global projector on n qubits has 2^n).
MAX_TERMS = 1 << 16
_PAULI = {"I": np.eye(2), "X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]),
          "Z": np.diag([1.0, -1.0])}


@dataclass(frozen=True)
class Rotation:
    """exp(−iθ_param P/2) with P drawn from ``axes`` (letters per qubit of ``qubits``) with ``probs``."""

    name: str
    qubits: tuple[int, ...]
    axes: tuple[tuple[int, ...], ...]
    probs: tuple[float, ...]
    param: int


@dataclass(frozen=True)
class Clifford:
    """A fixed Clifford gate: U† P_c U = signs[c]·P_table[c] on the local strings of ``qubits``."""

    name: str
    qubits: tuple[int, ...]
    table: np.ndarray = field(repr=False)
    signs: np.ndarray = field(repr=False)


@dataclass
class Problem:
    """A circuit in Pauli-path form.

    Attributes
    ----------
    n : int
        Qubits.
    steps : list[Rotation | Clifford]
        In circuit order (the first applied first).
    bloch : ndarray[n, 4]
        ⟨I, X, Z, Y⟩ of each qubit of the initial product state ρ (letter order of
        :mod:`.pauli`).
    terms : ndarray[T, n] of int8
        Letters of the cost's non-identity Pauli terms.
    coeffs : ndarray[T]
    """

    n: int
    steps: list
    bloch: np.ndarray
    terms: np.ndarray
    coeffs: np.ndarray


def _refuse(message: str) -> ValueError:
    return ValueError(f"Pauli paths do not apply: {message}. They cover Pauli rotations (RX/RY/RZ, "
                      "IsingXX/YY/ZZ, PauliRot, MultiRZ, random-axis rotations) with independent "
                      "angles uniform on [0, 2π), fixed Clifford gates (H, S, CNOT, CZ, SWAP, Paulis), "
                      "fixed non-Clifford gates only on the initial product state, and Pauli-sum or "
                      "basis-projector costs, without noise or shots")


def _check_options(model) -> None:
    for name in ("_record", "cost_spec", "wires"):
        if not hasattr(model, name):
            raise _refuse(f"{type(model).__name__} is not a circuit model (no {name})")
    if getattr(model, "noise", None) is not None:
        raise _refuse(f"noise={model.describe().get('noise')!r} is set (noisy channels are not modelled)")
    if getattr(model, "shots", None) is not None:
        raise _refuse(f"shots={model.shots} is set (finite-shot gradients are not modelled)")
    init = parse_init(getattr(model, "init", "uniform"))[0]
    if init != "uniform":
        raise _refuse(f"init={model.init!r}: only the uniform init U[0, 2π) has its path weights derived")


def _angle(first: float, second: float, n_params: int) -> int | None:
    """Parameter index of a gate angle read at θ = k+2 and θ = (k+2)²: None for a constant,
    −1 for anything but ±θ_k."""
    if first == second:
        return None
    k = round(abs(first)) - 2
    if abs(first) == k + 2 and 0 <= k < n_params and second == np.sign(first) * (k + 2) ** 2:
        return k
    return -1


def _scalar(value) -> float:
    array = np.asarray(qml.math.unwrap(value) if not isinstance(value, torch.Tensor) else value.detach(),
                       dtype=np.float64).reshape(-1)
    return float(array[0])


#: Parameter-free gates whose matrix depends on their name only (cached: layers repeat them).
_NAMED = ("CZ", "CNOT", "CY", "SWAP", "Hadamard", "S", "T", "SX", "PauliX", "PauliY", "PauliZ", "ISWAP")
_NAMED_MATRICES: dict[str, np.ndarray] = {}


def _matrix(op) -> np.ndarray:
    if op.name in _NAMED and not op.num_params:
        if op.name not in _NAMED_MATRICES:
            _NAMED_MATRICES[op.name] = _matrix_of(op)
        return _NAMED_MATRICES[op.name]
    return _matrix_of(op)


def _matrix_of(op) -> np.ndarray:
    m = qml.matrix(op)
    m = np.asarray(m.detach() if isinstance(m, torch.Tensor) else qml.math.unwrap(m), dtype=np.complex128)
    return m.reshape(m.shape[-2:])


def _flatten(first_ops: list, second_ops: list):
    """Pairs (op at θ = k+2, op at θ = (k+2)²), templates and parameterized non-rotations decomposed."""
    for a, b in zip(first_ops, second_ops, strict=True):
        known = a.name in ROTATIONS or a.name in ("MultiRZ", "PauliRot", "AxisRotation") or a.name in SKIPPED
        if known or (a.num_params == 0 and len(a.wires) <= 3):
            yield a, b
        elif a.has_decomposition:
            yield from _flatten(a.decomposition(), b.decomposition())
        else:
            raise _refuse(f"gate {a.name} on wires {list(a.wires)} is neither a Pauli rotation nor decomposable")


def _rotation(a, b, qubit_of: dict, n_params: int, trainable: np.ndarray, model) -> Rotation | None:
    """The Rotation of a parameterized gate, or None when its angle is a constant."""
    k = _angle(_scalar(a.data[0]), _scalar(b.data[0]), n_params)
    if k is None:
        return None
    wires = tuple(qubit_of[w] for w in a.wires)
    if k < 0 or not trainable[k]:
        raise _refuse(f"gate {a.name} on wires {list(a.wires)} has an angle that is not ±θ_k of one "
                      "trainable parameter")
    if a.name == "AxisRotation":
        structure = getattr(getattr(model, "ansatz", None), "structure", None)
        if structure is not ANSATZ_SPECS["random_pauli"].structure:
            raise _refuse("AxisRotation's axis codes are not drawn by random_pauli's uniform choice")
        return Rotation(a.name, wires, ((1,), (3,), (2,)), (1 / 3, 1 / 3, 1 / 3), k)
    word = (a.hyperparameters["pauli_word"] if a.name == "PauliRot"
            else "Z" * len(wires) if a.name == "MultiRZ" else ROTATIONS[a.name])
    kept = [(q, LETTERS.index(c)) for q, c in zip(wires, word, strict=True) if c != "I"]
    return Rotation(a.name, tuple(q for q, _ in kept), (tuple(c for _, c in kept),), (1.0,), k)


def _steps(model) -> tuple[list, np.ndarray]:
    """Gate steps and the initial Bloch table, from two recordings of the model."""
    n_params, wires = model.n_params, list(model.wires)
    qubit_of = {w: i for i, w in enumerate(wires)}
    base = torch.arange(n_params, dtype=torch.float64)[None] + 2
    first, second = model._record(base.clone()), model._record(base.square())
    trainable = model.trainable.numpy()
    states = [np.array([[1, 0], [0, 0]], np.complex128) for _ in wires]  # |0⟩⟨0| per qubit
    entangled: set[int] = set()
    steps: list = []
    started = False
    seen: dict[int, str] = {}
    for a, b in _flatten(first, second):
        if a.name in SKIPPED:
            continue
        qubits = tuple(qubit_of[w] for w in a.wires)
        rotation = _rotation(a, b, qubit_of, n_params, trainable, model) if a.num_params else None
        if rotation is not None:
            if rotation.param in seen:
                raise _refuse(f"parameter {rotation.param} drives both {seen[rotation.param]} and {a.name} "
                              "(shared parameters correlate the angles)")
            seen[rotation.param] = a.name
            steps.append(rotation)
            started = True
            continue
        matrix = _matrix(a)
        if not started and len(qubits) == 1 and qubits[0] not in entangled:
            states[qubits[0]] = matrix @ states[qubits[0]] @ matrix.conj().T
            continue
        table = clifford_table(matrix)
        if table is None:
            where = "after the first parameterized gate" if started else "on an entangled qubit"
            raise _refuse(f"fixed non-Clifford gate {a.name} on wires {list(a.wires)} {where}")
        steps.append(Clifford(a.name, qubits, *table))
        if len(qubits) > 1:
            entangled.update(qubits)
    bloch = np.array([[1.0] + [np.trace(rho @ _PAULI[c]).real for c in "XZY"] for rho in states])
    return steps, bloch


def _projector_sentence(op) -> qml.pauli.PauliSentence:
    """The basis-state projector |b⟩⟨b| = Π_w (I + (−1)^b_w Z_w)/2 as a Pauli sentence."""
    if len(op.wires) > MAX_TERMS.bit_length() - 1:
        raise _refuse(f"the projector on {len(op.wires)} qubits expands into more than {MAX_TERMS} Pauli terms")
    out = qml.pauli.PauliSentence({qml.pauli.PauliWord({}): 1.0})
    for w, bit in zip(op.wires, np.asarray(op.data[0]).reshape(-1), strict=True):
        out = out @ qml.pauli.PauliSentence({qml.pauli.PauliWord({}): 0.5,
                                             qml.pauli.PauliWord({w: "Z"}): 0.5 * (-1) ** int(bit)})
    return out


def _sentence(op) -> qml.pauli.PauliSentence:
    """Pauli sentence of an observable; sums, products and scalings of basis projectors expanded."""
    if isinstance(op, qml.Projector) and len(op.data[0]) == len(op.wires):
        return _projector_sentence(op)
    if isinstance(op, qml.ops.SProd):
        return _sentence(op.base) * qml.math.unwrap(op.scalar)
    if isinstance(op, qml.ops.Sum):
        out = qml.pauli.PauliSentence()
        for term in op.operands:
            out += _sentence(term)
        return out
    if isinstance(op, qml.ops.Prod):
        out = qml.pauli.PauliSentence({qml.pauli.PauliWord({}): 1.0})
        for factor in op.operands:
            out = out @ _sentence(factor)
        return out
    try:
        return qml.pauli.pauli_sentence(op)
    except (ValueError, TypeError) as error:
        raise _refuse(f"cost observable {op} is not a Pauli sum or basis projector") from error


def _terms(model) -> tuple[np.ndarray, np.ndarray]:
    observable = model.cost_spec.observable(list(model.wires))
    sentence = _sentence(observable)
    qubit_of = {w: i for i, w in enumerate(model.wires)}
    words = [(word, complex(c)) for word, c in sentence.items() if len(word) and c != 0]
    if any(abs(c.imag) > 1e-12 for _, c in words):
        raise _refuse(f"cost observable {observable} is not Hermitian")
    terms = np.zeros((len(words), len(model.wires)), np.int8)
    for i, (word, _) in enumerate(words):
        for w, c in word.items():
            terms[i, qubit_of[w]] = LETTERS.index(c)
    return terms, np.array([c.real for _, c in words])


def read(model) -> Problem:
    """The :class:`Problem` of a circuit model, or ValueError naming what does not fit.

    Parameters
    ----------
    model : CircuitModel
        Any qcgrad circuit model (built-in ansatz or user circuit).
    """
    _check_options(model)
    terms, coeffs = _terms(model)
    steps, bloch = _steps(model)
    return Problem(len(model.wires), steps, bloch, terms, coeffs)


__all__ = ["Rotation", "Clifford", "Problem", "read", "ROTATIONS", "MAX_TERMS"]
