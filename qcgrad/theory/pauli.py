"""Pauli words as bit masks: products, commutators and conjugation, vectorized with numpy.

A Pauli word on n qubits is a pair of bit masks ``(x, z)`` (bit q for qubit q): the letter
on qubit q is I, X, Z or Y for ``(x_q, z_q)`` = (0, 0), (1, 0), (0, 1), (1, 1); every word
is Hermitian (Y itself, not XZ). One int64 key ``x << n | z`` names a word (n ≤ 31).
A Hermitian operator is a *sentence* ``{key: real coefficient}``.

Products follow from Y = iXZ: a word is i^{|x∧z|} X^x Z^z, so
P₁P₂ = i^{|x₁∧z₁| + |x₂∧z₂| + 2|z₁∧x₂| − |x₃∧z₃|} P₃ with (x₃, z₃) = (x₁⊕x₂, z₁⊕z₂); two words
anticommute iff |x₁∧z₂| + |z₁∧x₂| is odd, and then i[P₁, P₂] = 2i·P₁P₂ is ±2 P₃ (real).
"""
from __future__ import annotations

import functools

import numpy as np
import pennylane as qml

#: Letter of (x, z) bits.
LETTERS = {(0, 0): "I", (1, 0): "X", (0, 1): "Z", (1, 1): "Y"}
BITS = {v: k for k, v in LETTERS.items()}
_MATRICES = {"I": np.eye(2), "X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]),
             "Z": np.diag([1.0, -1.0])}

Sentence = dict[int, float]


def key(x: int, z: int, n: int) -> int:
    """The int key of word (x, z) on n qubits."""
    return (x << n) | z


def split(keys: np.ndarray | int, n: int) -> tuple:
    """(x, z) masks of keys."""
    return keys >> n, keys & ((1 << n) - 1)


def popcount(a: np.ndarray | int) -> np.ndarray:
    return np.bitwise_count(np.asarray(a, dtype=np.int64)).astype(np.int64)


def anticommute(k1: np.ndarray | int, k2: np.ndarray | int, n: int) -> np.ndarray:
    """Whether words k1 and k2 anticommute (broadcast)."""
    x1, z1 = split(np.asarray(k1), n)
    x2, z2 = split(np.asarray(k2), n)
    return (popcount(x1 & z2) + popcount(z1 & x2)) % 2 == 1


def icommutator(k1: np.ndarray, k2: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(keys, coefficients)`` of i[P₁, P₂] for arrays of words (0 where they commute)."""
    x1, z1 = split(np.asarray(k1), n)
    x2, z2 = split(np.asarray(k2), n)
    x3, z3 = x1 ^ x2, z1 ^ z2
    e = (popcount(x1 & z1) + popcount(x2 & z2) + 2 * popcount(z1 & x2) - popcount(x3 & z3)) % 4
    # Anticommuting: e odd, P₁P₂ = i^e P₃ and 2i·i^e = 2·i^(e+1) = −2 for e = 1, +2 for e = 3.
    coeff = np.where(e == 1, -2.0, np.where(e == 3, 2.0, 0.0))
    return (x3 << n) | z3, coeff


def word_from_pennylane(word: qml.pauli.PauliWord, wire_index: dict) -> tuple[int, int]:
    """The ``(x, z)`` masks of a PennyLane Pauli word, qubit q being ``wire_index[wire]``."""
    x = z = 0
    for wire, letter in word.items():
        bx, bz = BITS[letter]
        q = wire_index[wire]
        x |= bx << q
        z |= bz << q
    return x, z


def from_operator(op: qml.operation.Operator, wires: list) -> Sentence | None:
    """The Pauli sentence of a Hermitian PennyLane operator on ``wires``, or None without one."""
    rep = op.pauli_rep
    if rep is None:
        return None
    n, index = len(wires), {w: q for q, w in enumerate(wires)}
    out: Sentence = {}
    for word, c in rep.items():
        c = complex(c)
        if abs(c.imag) > 1e-12 * max(1.0, abs(c)):
            return None  # not Hermitian
        k = key(*word_from_pennylane(word, index), n)
        out[k] = out.get(k, 0.0) + c.real
    return clean(out)


def to_pennylane(s: Sentence, n: int) -> qml.pauli.PauliSentence:
    words = {}
    for k, c in s.items():
        x, z = split(k, n)
        letters = {q: LETTERS[((x >> q) & 1, (z >> q) & 1)] for q in range(n)}
        words[qml.pauli.PauliWord({q: a for q, a in letters.items() if a != "I"})] = c
    return qml.pauli.PauliSentence(words)


def clean(s: Sentence, tol: float = 1e-12) -> Sentence:
    scale = max((abs(c) for c in s.values()), default=0.0)
    return {k: c for k, c in s.items() if abs(c) > tol * max(scale, 1e-300)}


def scaled(s: Sentence, a: float) -> Sentence:
    return {k: a * c for k, c in s.items()}


def added(a: Sentence, b: Sentence) -> Sentence:
    out = dict(a)
    for k, c in b.items():
        out[k] = out.get(k, 0.0) + c
    return clean(out)


def icommutator_sentence(a: Sentence, b: Sentence, n: int) -> Sentence:
    """i[A, B] of two sentences."""
    if not a or not b:
        return {}
    ka, ca = np.fromiter(a, np.int64), np.fromiter(a.values(), float)
    kb, cb = np.fromiter(b, np.int64), np.fromiter(b.values(), float)
    keys, coeff = icommutator(ka[:, None], kb[None, :], n)
    coeff = coeff * ca[:, None] * cb[None, :]
    keep = coeff != 0
    uniq, inv = np.unique(keys[keep], return_inverse=True)
    return clean(dict(zip(uniq.tolist(), np.bincount(inv, coeff[keep]).tolist(), strict=True)))


def commutes(a: Sentence, b: Sentence, n: int, tol: float = 1e-10) -> bool:
    c = icommutator_sentence(a, b, n)
    return all(abs(v) <= tol for v in c.values())


def canonical(s: Sentence) -> tuple:
    """A hashable form of the line R·s: sorted terms, normalized so the first coefficient is 1."""
    items = sorted(s.items())
    first = items[0][1]
    return tuple((k, round(c / first, 12)) for k, c in items)


def norm2(s: Sentence) -> float:
    """Σ c_P² (the Hilbert–Schmidt norm² divided by 2^n)."""
    return float(sum(c * c for c in s.values()))


@functools.cache
def _local_conjugation(matrix_bytes: bytes, k: int, letters: str) -> tuple[tuple[str, float], ...]:
    """U† P U decomposed on k wires: ((letters, coefficient), ...)."""
    u = np.frombuffer(matrix_bytes, dtype=complex).reshape(2 ** k, 2 ** k)
    p = functools.reduce(np.kron, [_MATRICES[a] for a in letters])
    m = u.conj().T @ p @ u
    out = []
    for idx in np.ndindex(*(4,) * k):
        word = "".join("IXYZ"[i] for i in idx)
        q = functools.reduce(np.kron, [_MATRICES[a] for a in word])
        c = np.trace(q @ m) / 2 ** k
        if abs(c) > 1e-12:
            out.append((word, float(c.real)))
    return tuple(out)


def conjugate(s: Sentence, matrix: np.ndarray, positions: list[int], n: int) -> Sentence:
    """U† S U for a gate U (matrix on qubits ``positions``, first position most significant)."""
    k = len(positions)
    mbytes = np.ascontiguousarray(matrix, dtype=complex).tobytes()
    out: Sentence = {}
    for word, c in s.items():
        x, z = split(word, n)
        letters = "".join(LETTERS[((x >> q) & 1, (z >> q) & 1)] for q in positions)
        mask = sum(1 << q for q in positions)
        x0, z0 = x & ~mask, z & ~mask
        for local, a in _local_conjugation(mbytes, k, letters):
            xx, zz = x0, z0
            for q, letter in zip(positions, local, strict=True):
                bx, bz = BITS[letter]
                xx |= bx << q
                zz |= bz << q
            kk = key(xx, zz, n)
            out[kk] = out.get(kk, 0.0) + c * a
    return clean(out)


def expectations(keys: np.ndarray, bloch: np.ndarray, n: int) -> np.ndarray:
    """Tr(P ρ) of words for the product state with per-qubit Bloch rows ``bloch[n, 3]`` (x, y, z)."""
    keys = np.asarray(keys, dtype=np.int64)
    x, z = split(keys, n)
    out = np.ones(keys.shape)
    table = np.concatenate([np.ones((n, 1)), bloch], axis=1)  # I, X, Y, Z
    for q in range(n):
        bx, bz = (x >> q) & 1, (z >> q) & 1
        letter = np.where(bx & bz, 2, np.where(bx, 1, np.where(bz, 3, 0)))
        out = out * table[q][letter]
    return out


def product_sentence(a: Sentence, b: Sentence, n: int) -> dict[int, complex]:
    """A·B (complex coefficients)."""
    ka, ca = np.fromiter(a, np.int64), np.fromiter(a.values(), float)
    kb, cb = np.fromiter(b, np.int64), np.fromiter(b.values(), float)
    x1, z1 = split(ka[:, None], n)
    x2, z2 = split(kb[None, :], n)
    x3, z3 = x1 ^ x2, z1 ^ z2
    e = (popcount(x1 & z1) + popcount(x2 & z2) + 2 * popcount(z1 & x2) - popcount(x3 & z3)) % 4
    coeff = (1j ** e) * ca[:, None] * cb[None, :]
    keys = (x3 << n) | z3
    uniq, inv = np.unique(keys.ravel(), return_inverse=True)
    vals = np.bincount(inv, coeff.ravel().real) + 1j * np.bincount(inv, coeff.ravel().imag)
    return dict(zip(uniq.tolist(), vals.tolist(), strict=True))
