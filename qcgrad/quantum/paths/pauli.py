"""Bit-packed Pauli strings: commutation, phases, Clifford conjugation, product-state values.

A batch of N strings on n qubits is two ``uint64`` arrays ``x, z`` of shape ``[N, W]``,
W = ⌈n/64⌉, bit q of word q//64 holding qubit q. Qubit q's letter is ``x + 2z``:
0 = I, 1 = X, 2 = Z, 3 = Y, always the Hermitian Pauli (Y itself, not XZ), so a string
with these bits is a Hermitian operator and a sign ±1 in front of it is all the phase
there is to track.

Examples
--------
>>> x, z = from_letters(["XZ", "ZZ"])
>>> anticommutes(x, z, *from_letters(["ZI"])).tolist()
[True, False]
"""
from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

#: Letter index (x + 2z) -> Pauli name.
LETTERS = "IXZY"
_MATRICES = (np.eye(2), np.array([[0, 1], [1, 0]]), np.diag([1.0, -1.0]), np.array([[0, -1j], [1j, 0]]))
ONE = np.uint64(1)


def _letter_words(letter: int) -> tuple[np.ndarray, np.ndarray]:
    return np.array([[letter & 1]], np.uint64), np.array([[letter >> 1]], np.uint64)


def words(n: int) -> int:
    """64-bit words per string on ``n`` qubits."""
    return max(1, -(-n // 64))


def from_letters(strings: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(x, z)`` of strings written as letters, qubit 0 first (``"XZ"``: X on qubit 0, Z on 1)."""
    n = max(len(s) for s in strings)
    x = np.zeros((len(strings), words(n)), np.uint64)
    z = np.zeros_like(x)
    for i, s in enumerate(strings):
        for q, c in enumerate(s):
            code = LETTERS.index(c)
            x[i, q // 64] |= np.uint64(code & 1) << np.uint64(q % 64)
            z[i, q // 64] |= np.uint64(code >> 1) << np.uint64(q % 64)
    return x, z


def _parity(a: np.ndarray) -> np.ndarray:
    return (np.bitwise_count(a).sum(axis=-1, dtype=np.int64) & 1).astype(bool)


def anticommutes(x: np.ndarray, z: np.ndarray, px: np.ndarray, pz: np.ndarray) -> np.ndarray:
    """``bool[N]``: string i anticommutes with P (symplectic product is odd)."""
    return _parity((x & pz) ^ (z & px))


def flip_sign(x: np.ndarray, z: np.ndarray, px: np.ndarray, pz: np.ndarray) -> np.ndarray:
    """``float[N]``: the sign σ in i·P·s = σ·(P⊕s), for strings s that anticommute with P.

    Per qubit, X·Y = iZ, Y·Z = iX, Z·X = iY and the reverse orders give −i; i·P·s is then
    i^(1 + #cyclic − #anticyclic), real because s and P anticommute.
    """
    sx, sy, sz = x & ~z, x & z, z & ~x
    qx, qy, qz = px & ~pz, px & pz, pz & ~px
    plus = np.bitwise_count((qx & sy) | (qy & sz) | (qz & sx)).sum(axis=-1, dtype=np.int64)
    minus = np.bitwise_count((qy & sx) | (qz & sy) | (qx & sz)).sum(axis=-1, dtype=np.int64)
    return np.where((1 + plus - minus) % 4 == 0, 1.0, -1.0)


#: LETTER_ANTI[p, a]: single-qubit letter a anticommutes with p; LETTER_SIGN[p, a]: σ in i·p·a = σ·(p⊕a).
LETTER_ANTI = np.array([[p != 0 and a not in (0, p) for a in range(4)] for p in range(4)])
LETTER_SIGN = np.array([[flip_sign(*_letter_words(a), *(w[0] for w in _letter_words(p)))[0] for a in range(4)]
                        for p in range(4)])


def letters(x: np.ndarray, z: np.ndarray, qubit: int) -> np.ndarray:
    """``int64[N]``: the letter (0..3) of every string on ``qubit``."""
    word, bit = qubit // 64, np.uint64(qubit % 64)
    return (((x[:, word] >> bit) & ONE) | (((z[:, word] >> bit) & ONE) << ONE)).astype(np.int64)


def set_letters(x: np.ndarray, z: np.ndarray, qubit: int, codes: np.ndarray) -> None:
    """Write letters ``codes`` (0..3) on ``qubit`` of every string, in place."""
    word, bit = qubit // 64, np.uint64(qubit % 64)
    keep = ~(ONE << bit)
    codes = codes.astype(np.uint64)
    x[:, word] = (x[:, word] & keep) | ((codes & ONE) << bit)
    z[:, word] = (z[:, word] & keep) | ((codes >> ONE) << bit)


def conjugate(x: np.ndarray, z: np.ndarray, qubits: Sequence[int], table: np.ndarray,
              signs: np.ndarray) -> np.ndarray:
    """Apply a Clifford gate's conjugation table to the strings in place; return their signs.

    ``table[c]``, ``signs[c]``: the image G†PG = sign·P' of the local string with code
    c = Σ_j letter(qubits[j])·4^j (see :func:`clifford_table`).
    """
    code = np.zeros(x.shape[0], np.int64)
    for j, q in enumerate(qubits):
        code += letters(x, z, q) << (2 * j)
    image = table[code]
    for j, q in enumerate(qubits):
        set_letters(x, z, q, (image >> (2 * j)) & 3)
    return signs[code]


def _string_matrix(code: int, k: int) -> np.ndarray:
    m = np.eye(1)
    for j in range(k):  # the gate's first wire is the most significant factor
        m = np.kron(m, _MATRICES[(code >> (2 * j)) & 3])
    return m


@functools.lru_cache(maxsize=256)
def _table(matrix_bytes: bytes, k: int) -> tuple[np.ndarray, np.ndarray] | None:
    u = np.frombuffer(matrix_bytes, np.complex128).reshape(2**k, 2**k)
    table, signs = np.zeros(4**k, np.int64), np.zeros(4**k)
    for c in range(4**k):
        image = u.conj().T @ _string_matrix(c, k) @ u
        overlaps = [np.trace(_string_matrix(d, k) @ image).real / 2**k for d in range(4**k)]
        d = int(np.argmax(np.abs(overlaps)))
        if abs(abs(overlaps[d]) - 1) > 1e-9:
            return None
        table[c], signs[c] = d, np.sign(overlaps[d])
    return table, signs


def clifford_table(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Conjugation table of a k-qubit unitary, or None when it is not a Clifford gate.

    Returns ``(table, signs)`` with U† P_c U = signs[c]·P_table[c] for every local Pauli
    string code c (see :func:`conjugate`).

    Examples
    --------
    >>> table, signs = clifford_table(np.array([[1, 1], [1, -1]]) / np.sqrt(2))  # H
    >>> [LETTERS[c] for c in table], signs.tolist()
    (['I', 'Z', 'X', 'Y'], [1.0, 1.0, 1.0, -1.0])
    """
    k = int(np.log2(matrix.shape[0]))
    return _table(np.ascontiguousarray(matrix, np.complex128).tobytes(), k)


def final_value(sx: np.ndarray, sz: np.ndarray, tx: np.ndarray, tz: np.ndarray, tables: np.ndarray) -> np.ndarray:
    """``float[N]``: Π_q tables[q, letter of s on q, letter of t on q] for string pairs (s, t).

    ``tables`` is ``[n, 4, 4]``; for a product state with Bloch table r_q it is the outer
    product r_q r_qᵀ (⟨s⟩⟨t⟩). When every qubit has the same table and s = t, the value is
    Π_L g_L^#L over the letter counts, read off popcounts instead of a loop over qubits.
    """
    n = tables.shape[0]
    if np.all(tables == tables[0]) and np.array_equal(sx, tx) and np.array_equal(sz, tz):
        out = np.ones(sx.shape[0])
        for letter, mask in ((1, sx & ~sz), (2, sz & ~sx), (3, sx & sz)):
            count = np.bitwise_count(mask).sum(axis=-1, dtype=np.int64)
            out *= np.where(count > 0, tables[0, letter, letter] ** count.astype(np.float64), 1.0)
        return out
    out = np.ones(sx.shape[0])
    for q in range(n):
        out *= tables[q][letters(sx, sz, q), letters(tx, tz, q)]
    return out


__all__ = ["LETTERS", "LETTER_ANTI", "LETTER_SIGN", "words", "from_letters", "anticommutes", "flip_sign",
           "letters", "set_letters", "conjugate", "clifford_table", "final_value"]
