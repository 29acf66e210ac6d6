"""Path Monte Carlo: an unbiased estimate of E[(∂C/∂θ_k)²] from sampled Pauli paths.

Each path starts at a row (string s, pair product q, weight a_i a_j) drawn with probability
∝ |a_i a_j| and walks backward through the region: at a rotation it draws the generator
(random-axis gates) with its probability, dies when the generator anticommutes with q
(cross moments), dies at the differentiated gate when the generator commutes with s, and
otherwise moves s to i·P·s with probability ½ when they anticommute. Cliffords relabel s
and q. A path's value M·sign·⟨s⟩_ρ⟨s·q⟩_ρ, M = Σ|a_i a_j|, has mean E[(∂C/∂θ_k)²]: the
transition probabilities are the DP's weights (:mod:`.exact`), so the walk is the DP's
chain sampled. All paths advance together, a few bit operations per gate on ``[N, W]``
words.

Examples
--------
>>> import numpy as np, qcgrad as qg
>>> from qcgrad.quantum.paths.reader import read
>>> from qcgrad.quantum.paths.region import restrict
>>> from qcgrad.quantum.paths.exact import second_moment
>>> region = restrict(read(qg.quantum.circuit("alternating_layered", n_qubits=4, n_layers=3, cost="local")), 0)
>>> values = path_values(region, 20_000, np.random.default_rng(0))
>>> bool(abs(values.mean() - second_moment(region)) < 4 * values.std() / np.sqrt(values.size))
True
"""
from __future__ import annotations

import numpy as np

from .pauli import anticommutes, final_value, flip_sign
from .region import CliffordStep, Region, Rows
from .region import rows as start_rows


def path_values(region: Region, n_paths: int, rng: np.random.Generator, rows: Rows | None = None) -> np.ndarray:
    """``float[n_paths]``: independent unbiased estimates of E[(∂C/∂θ_target)²]."""
    rows = start_rows(region) if rows is None else rows
    mass = np.abs(rows.weights)
    total = float(mass.sum())
    values = np.zeros(n_paths)
    if total == 0:
        return values
    pick = rng.choice(mass.size, size=n_paths, p=mass / total)
    sx, sz, qx, qz = rows.sx[pick], rows.sz[pick], rows.qx[pick], rows.qz[pick]
    sign = np.sign(rows.weights[pick])
    alive = np.arange(n_paths)
    signed = bool(rows.qx.any() or rows.qz.any())
    for step in reversed(region.steps):
        if isinstance(step, CliffordStep):
            sign = sign * step.carry(sx, sz, qx, qz, signed)
            continue
        if step.probs.size == 1:
            gx, gz = step.gx[0], step.gz[0]
        else:
            axis = np.minimum(np.searchsorted(np.cumsum(step.probs), rng.random(alive.size), side="right"),
                              step.probs.size - 1)
            gx, gz = step.gx[axis], step.gz[axis]
        anti = anticommutes(sx, sz, gx, gz)
        keep = anti if step.param == region.target else np.ones(alive.size, bool)
        if signed:
            keep &= ~anticommutes(qx, qz, gx, gz)
        flip = anti & (rng.random(alive.size) < 0.5)
        if signed and flip.any():
            fx, fz = (gx[flip], gz[flip]) if gx.ndim == 2 else (gx, gz)
            sign[flip] *= flip_sign(sx[flip], sz[flip], fx, fz) * flip_sign(sx[flip] ^ qx[flip], sz[flip] ^ qz[flip],
                                                                            fx, fz)
        sx, sz = np.where(flip[:, None], sx ^ gx, sx), np.where(flip[:, None], sz ^ gz, sz)
        if not keep.all():
            alive, sx, sz, qx, qz, sign = alive[keep], sx[keep], sz[keep], qx[keep], qz[keep], sign[keep]
        if alive.size == 0:
            return values
    values[alive] = total * sign * final_value(sx, sz, sx ^ qx, sz ^ qz, region.tables)
    return values


__all__ = ["path_values"]
