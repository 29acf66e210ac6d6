"""One partial derivative's share of a path problem: its light cone, bit-packed, with its pair classes.

∂C/∂θ_k only sees the cost terms inside gate k's forward light cone, and those terms' strings
only ever touch the qubits of their backward light cone; every other gate acts trivially on
them. :func:`restrict` cuts the problem down to that region and relabels its qubits
0..m−1, which is what makes a local cost on a thousand qubits cost as much as on a few dozen.

E[(∂C)²] = Σ_ij a_i a_j E[∂⟨P_i⟩ ∂⟨P_j⟩]. A pair (s, t) of strings keeps its product
q ∝ s·t through every rotation (i·P·s · i·P·t = s·t) and is killed by any rotation whose
generator anticommutes with q (E[cos θ] = E[sin θ] = 0); Cliffords conjugate q. So the
pairs are grouped by q: q = 0 is the diagonal (the squared coefficients), and a class
q ≠ 0 is kept only when q survives every rotation (:func:`rows`).

Examples
--------
>>> import qcgrad as qg
>>> from qcgrad.quantum.paths.reader import read
>>> problem = read(qg.quantum.circuit("tensor_product", n_qubits=3, cost="local"))
>>> part = restrict(problem, 0)
>>> part.n, len(part.steps), rows(part).weights.tolist()  # one term, Z₀; its RX sits in the final table
(1, 0, [0.027777777777777776])
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .pauli import LETTER_ANTI, LETTER_SIGN, anticommutes, conjugate, letters, words
from .reader import Clifford, Problem, Rotation

#: Most ordered term pairs screened for cross moments E[⟨P_i⟩⟨P_j⟩] (in chunks of PAIR_CHUNK).
MAX_PAIRS = 1 << 26
PAIR_CHUNK = 1 << 20


@dataclass(frozen=True)
class RotationStep:
    """A bit-packed rotation: generators ``gx, gz`` [A, W] (letters ``axes``) drawn with ``probs``."""

    qubits: tuple[int, ...]
    param: int
    axes: tuple[tuple[int, ...], ...]
    gx: np.ndarray
    gz: np.ndarray
    probs: np.ndarray


@dataclass(frozen=True)
class CliffordStep:
    """A Clifford gate on region qubits: conjugation ``table`` and ``signs`` (:func:`.pauli.conjugate`)."""

    qubits: tuple[int, ...]
    table: np.ndarray
    signs: np.ndarray

    def carry(self, sx: np.ndarray, sz: np.ndarray, qx: np.ndarray, qz: np.ndarray, signed: bool) -> np.ndarray | float:
        """Conjugate the strings s (and, when ``signed``, their pair products q) through the gate
        in place; return the sign factor of the path weights (1.0 when not ``signed``): the sign
        of the partner t = s·q, taken from the strings before the gate, times that of s."""
        if not signed:
            conjugate(sx, sz, self.qubits, self.table, self.signs)
            return 1.0
        sign = conjugate(sx ^ qx, sz ^ qz, self.qubits, self.table, self.signs)
        conjugate(qx, qz, self.qubits, self.table, self.signs)
        return sign * conjugate(sx, sz, self.qubits, self.table, self.signs)


Step = RotationStep | CliffordStep


@dataclass
class Region:
    """The light cone of partial ``target``: ``n`` qubits, bit-packed steps, terms, and per-qubit
    final tables ``[n, 4, 4]`` (the initial state and each qubit's first single-qubit gates)."""

    n: int
    target: int
    steps: list[Step]
    tables: np.ndarray
    tx: np.ndarray
    tz: np.ndarray
    coeffs: np.ndarray


@dataclass
class Rows:
    """Starting rows of the pair chain: string s, pair product q, weight a_i·a_j."""

    sx: np.ndarray
    sz: np.ndarray
    qx: np.ndarray
    qz: np.ndarray
    weights: np.ndarray


def _pack(letters: np.ndarray, qubits, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Words of strings given as letters [R, len(qubits)] on region qubits ``qubits``."""
    x = np.zeros((letters.shape[0], words(n)), np.uint64)
    z = np.zeros_like(x)
    for j, q in enumerate(qubits):
        bit = np.uint64(q % 64)
        x[:, q // 64] |= (letters[:, j] & 1).astype(np.uint64) << bit
        z[:, q // 64] |= (letters[:, j] >> 1).astype(np.uint64) << bit
    return x, z


def _final_table(bloch: np.ndarray, absorbed: list, target: int) -> np.ndarray:
    """``[4, 4]``: expected ⟨a'⟩⟨b'⟩ of a letter pair (a, b) carried through one qubit's first
    single-qubit gates (circuit order) to its initial state — the chain summed exactly, so the
    walks and the map stop where the qubit's first multi-qubit gate is."""
    value = np.outer(bloch, bloch)
    a, b = np.meshgrid(np.arange(4), np.arange(4), indexing="ij")
    for step in absorbed:
        if isinstance(step, Clifford):
            value = np.outer(step.signs, step.signs) * value[np.ix_(step.table, step.table)]
            continue
        new = np.zeros((4, 4))
        for (p,), prob in zip(step.axes, step.probs, strict=True):
            anti_a, anti_b = LETTER_ANTI[p][a], LETTER_ANTI[p][b]
            alive = anti_a == anti_b  # the pair product commutes with P
            stay = np.where(anti_a, 0.5, 0.0 if step.param == target else 1.0)
            flip = 0.5 * LETTER_SIGN[p][a] * LETTER_SIGN[p][b] * value[a ^ p, b ^ p]
            new += prob * alive * (stay * value + np.where(anti_a, flip, 0.0))
        value = new
    return value


def restrict(problem: Problem, target: int) -> Region | None:
    """The region of partial ``target``, or None when ∂C/∂θ_target is zero by the light cone."""
    position = next((i for i, s in enumerate(problem.steps)
                     if isinstance(s, Rotation) and s.param == target), None)
    if position is None:
        return None
    cone = set(problem.steps[position].qubits)
    for step in problem.steps[position + 1:]:
        if cone.intersection(step.qubits):
            cone.update(step.qubits)
    kept_terms = np.flatnonzero((problem.terms[:, sorted(cone)] != 0).any(axis=1))
    if kept_terms.size == 0:
        return None
    support = set(np.flatnonzero((problem.terms[kept_terms] != 0).any(axis=0)).tolist())
    kept = []
    for step in reversed(problem.steps):
        if support.intersection(step.qubits):
            kept.append(step)
            support.update(step.qubits)
    qubits = sorted(support)
    label = {q: i for i, q in enumerate(qubits)}
    n = len(qubits)
    steps: list[Step] = []
    absorbed: list[list] = [[] for _ in qubits]
    entangled: set[int] = set()
    for step in reversed(kept):  # circuit order
        local = tuple(label[q] for q in step.qubits)
        if len(local) == 1 and local[0] not in entangled:
            absorbed[local[0]].append(step)  # acts on the still unentangled product state
            continue
        if len(local) > 1:
            entangled.update(local)
        if isinstance(step, Clifford):
            steps.append(CliffordStep(local, step.table, step.signs))
        else:
            gx, gz = _pack(np.array(step.axes, np.int64), local, n)
            steps.append(RotationStep(local, step.param, step.axes, gx, gz, np.array(step.probs)))
    tables = np.stack([_final_table(problem.bloch[q], absorbed[label[q]], target) for q in qubits])
    tx, tz = _pack(problem.terms[np.ix_(kept_terms, qubits)].astype(np.int64), range(n), n)
    return Region(n, target, steps, tables, tx, tz, problem.coeffs[kept_terms])


def survivors(qx: np.ndarray, qz: np.ndarray, region: Region) -> np.ndarray:
    """Indices of the pair products q that no rotation kills (some generator commutes with q)
    and that the final tables do not zero (some letter pair a, a·q_j has a nonzero entry)."""
    alive = np.arange(qx.shape[0])
    qx, qz = qx.copy(), qz.copy()
    for step in reversed(region.steps):
        if alive.size == 0:
            break
        if isinstance(step, CliffordStep):
            conjugate(qx, qz, step.qubits, step.table, step.signs)
            continue
        keep = np.zeros(alive.size, bool)
        for gx, gz in zip(step.gx, step.gz, strict=True):
            keep |= ~anticommutes(qx, qz, gx, gz)
        alive, qx, qz = alive[keep], qx[keep], qz[keep]
    a = np.arange(4)
    for j, table in enumerate(region.tables):
        open_letters = np.array([np.any(table[a, a ^ letter] != 0) for letter in range(4)])
        keep = open_letters[letters(qx, qz, j)]
        alive, qx, qz = alive[keep], qx[keep], qz[keep]
    return alive


def rows(region: Region) -> Rows:
    """Starting rows: the diagonal (a_i² on P_i, q = 0) and every surviving ordered pair i ≠ j."""
    t = region.tx.shape[0]
    if t * (t - 1) > MAX_PAIRS:
        raise ValueError(f"Pauli paths do not apply: the cost has {t} Pauli terms in one light cone, "
                         f"{t * (t - 1)} pairs to screen for cross moments (at most {MAX_PAIRS})")
    zero = np.zeros_like(region.tx)
    parts = [(np.arange(t), np.arange(t), zero, zero)]
    chunk = max(1, PAIR_CHUNK // max(t, 1))  # rows i per chunk of ordered pairs (i, j)
    for lo in range(0, t, chunk):
        i, j = np.divmod(np.arange(lo * t, min(t, lo + chunk) * t), t)
        i, j = i[i != j], j[i != j]
        qx, qz = region.tx[i] ^ region.tx[j], region.tz[i] ^ region.tz[j]
        alive = survivors(qx, qz, region)
        parts.append((i[alive], j[alive], qx[alive], qz[alive]))
    i, j, qx, qz = (np.concatenate(p) for p in zip(*parts, strict=True))
    return Rows(region.tx[i], region.tz[i], qx, qz, region.coeffs[i] * region.coeffs[j])


__all__ = ["Step", "RotationStep", "CliffordStep", "Region", "Rows", "restrict", "survivors", "rows", "MAX_PAIRS"]
