"""Exact dynamic programming over Pauli strings: E[(∂C/∂θ_k)²] as a sparse map string → weight.

Backward through the region's gates, every class of pair rows (:mod:`.region`) carries a map
from string s to a signed weight. A rotation with generator P (averaged over the allowed
generators with their probabilities) keeps a commuting s with weight 1 and splits an
anticommuting one ½ to s and ½ to i·P·s — at the differentiated gate a commuting s gets 0
instead (its coefficient does not depend on θ_k). Clifford gates relabel the strings. The
result is Σ_s w_s T(s, s·q) summed over the classes, T the product of the region's final
tables (⟨s⟩_ρ⟨s·q⟩_ρ after each qubit's first single-qubit gates). The diagonal class of up
to :data:`DENSE_VECTOR_QUBITS` qubits is a dense vector over all 4^n strings instead of a map;
a sparse run gives up (:class:`TooLarge`) past :data:`MAX_STRINGS` strings or
:data:`MAX_WORK` updates, deterministic limits so that a model is exact or sampled the same
way on every machine.

Examples
--------
>>> import qcgrad as qg
>>> from qcgrad.quantum.paths.reader import read
>>> from qcgrad.quantum.paths.region import restrict
>>> problem = read(qg.quantum.circuit("tensor_product", n_qubits=2, cost="global"))
>>> second_moment(restrict(problem, 0))  # Cerezo 2021: (1/8)(3/8)^(n−1)
0.046875
"""
from __future__ import annotations

import numpy as np

from .pauli import LETTER_ANTI, anticommutes, conjugate, final_value, flip_sign
from .region import CliffordStep, Region, Rows
from .region import rows as start_rows

#: Most strings the map may hold (per pair class) before the DP gives up (:class:`TooLarge`).
MAX_STRINGS = 1 << 20
#: Most string updates (map size summed over the gates) a sparse run may spend before it gives
#: up: a deterministic budget, so the same model is exact or sampled on any machine.
MAX_WORK = 1 << 25
#: Merge through a dense array of 4^n counters up to this many qubits.
DENSE_QUBITS = 11
#: Carry the diagonal class as a dense vector over all 4^n strings up to this many qubits.
DENSE_VECTOR_QUBITS = 10


class TooLarge(RuntimeError):
    """The reachable set outgrew :data:`MAX_STRINGS` or the run :data:`MAX_WORK`: use path Monte Carlo."""


def _merge(x: np.ndarray, z: np.ndarray, w: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum the weights of equal strings; drop exact zeros."""
    if x.shape[1] == 1 and n <= 32:  # one 64-bit key x·2^n + z per string
        shift = np.uint64(n)
        key = (x[:, 0] << shift) | z[:, 0]
        if n <= DENSE_QUBITS:
            dense = np.bincount(key.astype(np.int64), w, minlength=1 << (2 * n))
            key = np.flatnonzero(dense).astype(np.uint64)
            w = dense[key.astype(np.int64)]
        else:
            key, inverse = np.unique(key, return_inverse=True)
            w = np.bincount(inverse, w)
            key, w = key[w != 0], w[w != 0]
        mask = (np.uint64(1) << shift) - np.uint64(1)
        return (key >> shift)[:, None], (key & mask)[:, None], w
    columns = np.concatenate([x, z], axis=1)
    order = np.lexsort(columns.T[::-1])
    columns, w = columns[order], w[order]
    starts = np.flatnonzero(np.concatenate([[True], (columns[1:] != columns[:-1]).any(axis=1)]))
    columns, w = columns[starts], np.add.reduceat(w, starts)
    keep = w != 0
    return columns[keep, :x.shape[1]], columns[keep, x.shape[1]:], w[keep]


def _run(region: Region, sx, sz, w, qx, qz, max_strings: int) -> float:
    """Σ_s w_s ⟨s⟩⟨s·q⟩ after carrying one class (pair product q) backward through the region."""
    signed = bool(qx.any() or qz.any())
    sx, sz, qx, qz = sx.copy(), sz.copy(), qx[None].copy(), qz[None].copy()
    sx, sz, w = _merge(sx, sz, w, region.n)
    work = 0
    for step in reversed(region.steps):
        work += w.size
        if work > MAX_WORK:
            raise TooLarge(f"more than {MAX_WORK} string updates")
        if isinstance(step, CliffordStep):
            w = w * step.carry(sx, sz, qx, qz, signed)
            continue
        derivative = step.param == region.target
        stay = np.zeros_like(w)
        flips = []
        for gx, gz, p in zip(step.gx, step.gz, step.probs, strict=True):
            if signed and anticommutes(qx, qz, gx, gz)[0]:
                continue
            anti = anticommutes(sx, sz, gx, gz)
            stay += p * np.where(anti, 0.5, 0.0 if derivative else 1.0)
            if anti.any():
                fw = 0.5 * p * w[anti]
                if signed:
                    fw = fw * flip_sign(sx[anti], sz[anti], gx, gz) * flip_sign(
                        sx[anti] ^ qx, sz[anti] ^ qz, gx, gz)
                flips.append((sx[anti] ^ gx, sz[anti] ^ gz, fw))
        if not flips:
            keep = stay != 0
            sx, sz, w = sx[keep], sz[keep], (w * stay)[keep]
            continue
        sx, sz, w = _merge(np.concatenate([sx] + [f[0] for f in flips]), np.concatenate([sz] + [f[1] for f in flips]),
                           np.concatenate([w * stay] + [f[2] for f in flips]), region.n)
        if w.size > max_strings:
            raise TooLarge(f"more than {max_strings} Pauli strings reachable")
    if w.size == 0:
        return 0.0
    return float(np.sum(w * final_value(sx, sz, sx ^ qx, sz ^ qz, region.tables)))


def _letter_matrix(step, derivative: bool) -> np.ndarray:
    """``[4, 4]``: weight moved from letter a (column) to letter b (row) by a one-qubit rotation."""
    matrix = np.zeros((4, 4))
    for (p,), prob in zip(step.axes, step.probs, strict=True):
        for a in range(4):
            if LETTER_ANTI[p, a]:
                matrix[a, a] += 0.5 * prob
                matrix[a ^ p, a] += 0.5 * prob
            elif not derivative:
                matrix[a, a] += prob
    return matrix


def _run_dense(region: Region, sx, sz, w) -> float:
    """:func:`_run` for the diagonal class as a dense vector over all 4^n strings (index x·2^n + z).

    A one-qubit rotation is a 4×4 letter matrix on two bit axes of the vector, any other
    rotation a gather per generator, a Clifford one scatter; there is nothing to merge.
    """
    n = region.n
    keys = np.arange(1 << (2 * n), dtype=np.int64)
    x, z = (keys >> n).astype(np.uint64)[:, None], (keys & ((1 << n) - 1)).astype(np.uint64)[:, None]
    vector = np.bincount((sx[:, 0].astype(np.int64) << n) | sz[:, 0].astype(np.int64), w, minlength=keys.size)
    images: dict[tuple, np.ndarray] = {}
    for step in reversed(region.steps):
        if isinstance(step, CliffordStep):
            key = (step.qubits, step.table.tobytes())
            if key not in images:
                cx, cz = x.copy(), z.copy()
                conjugate(cx, cz, step.qubits, step.table, step.signs)
                images[key] = (cx[:, 0].astype(np.int64) << n) | cz[:, 0].astype(np.int64)
            moved = np.empty_like(vector)
            moved[images[key]] = vector
            vector = moved
            continue
        derivative = step.param == region.target
        if len(step.qubits) == 1:
            q = step.qubits[0]  # bit n+q holds x_q, bit q holds z_q
            view = vector.reshape(1 << (n - 1 - q), 2, 1 << (n - 1), 2, 1 << q)
            out = np.zeros_like(view)
            matrix = _letter_matrix(step, derivative)
            for b, a in zip(*np.nonzero(matrix), strict=True):
                out[:, b & 1, :, b >> 1] += matrix[b, a] * view[:, a & 1, :, a >> 1]
            vector = out.reshape(-1)
            continue
        new = np.zeros_like(vector)
        for gx, gz, p in zip(step.gx, step.gz, step.probs, strict=True):
            anti = anticommutes(x, z, gx, gz)
            flipped = vector[keys ^ ((int(gx[0]) << n) | int(gz[0]))]
            new += p * np.where(anti, 0.5 * (vector + flipped), 0.0 if derivative else vector)
        vector = new
    nonzero = np.flatnonzero(vector)
    return float(np.sum(vector[nonzero] * final_value(x[nonzero], z[nonzero], x[nonzero], z[nonzero],
                                                       region.tables)))


def second_moment(region: Region, rows: Rows | None = None, max_strings: int = MAX_STRINGS) -> float:
    """E_θ[(∂C/∂θ_target)²] exactly, over the region's pair classes.

    Raises
    ------
    TooLarge
        When a class's map of strings outgrows ``max_strings`` or its run :data:`MAX_WORK`
        updates (the dense vector of :data:`DENSE_VECTOR_QUBITS` or fewer qubits never does).
    """
    rows = start_rows(region) if rows is None else rows
    q = np.concatenate([rows.qx, rows.qz], axis=1)
    classes, inverse = np.unique(q, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    total = 0.0
    for c in range(classes.shape[0]):
        member = inverse == c
        if not classes[c].any() and region.n <= DENSE_VECTOR_QUBITS:
            total += _run_dense(region, rows.sx[member], rows.sz[member], rows.weights[member])
            continue
        total += _run(region, rows.sx[member], rows.sz[member], rows.weights[member],
                      rows.qx[member][0], rows.qz[member][0], max_strings)
    return total


__all__ = ["MAX_STRINGS", "TooLarge", "second_moment"]
