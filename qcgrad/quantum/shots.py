"""Finite-shot measurement: sampled parameter-shift gradients and their shot-noise variance.

A diagonal cost H = Σ_x h_x ``|x⟩⟨x|`` measured with N shots is estimated by the mean of h over
N outcomes drawn from the circuit's probabilities p_x, so the estimate is unbiased with
variance σ²/N, σ² = Σ p_x h_x² − (Σ p_x h_x)². The two-term parameter-shift estimate
ĝ = (Ĉ₊ − Ĉ₋)/2 from independent shots then has

    Var_shots[ĝ | θ] = (σ₊² + σ₋²) / (4N),

which for a ±1-valued observable (``zz``) is (1 − ⟨O⟩₊²)/(4N) + (1 − ⟨O⟩₋²)/(4N). Over random
parameters the measured gradient variance splits by the law of total variance into
landscape variance Var_θ[g(θ)] plus mean shot variance E_θ[Var_shots[ĝ | θ]] (see
:func:`decompose_variance`), which tells how many shots resolve a plateau of a given size.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import torch

from ..gradients import resolve_params
from ..seeding import derive_seed


def check_shots(shots: int | None) -> int | None:
    """``shots`` itself when it is None or an int >= 1; otherwise a TypeError/ValueError."""
    if shots is None:
        return None
    if isinstance(shots, bool) or not isinstance(shots, int):
        raise TypeError(f"shots={shots!r} must be None (exact expectations) or an int >= 1")
    if shots < 1:
        raise ValueError(f"shots={shots} is out of range; it must be None or an int >= 1")
    return shots


def shifted_circuit_seeds(seed: int, params: torch.Tensor, indices: torch.Tensor) -> list[int]:
    """One seed per shifted circuit of :func:`shift_rows` (same row order), from ``seed``, the
    bytes of that sample's parameters, the partial's index and the shift's sign.

    A circuit's shots then depend on nothing else: not on the other samples, the batch
    split, the chunk size or the sample count (the first 40 samples of an 80-sample run
    are a 40-sample run). Equal rows in one call are numbered by occurrence and draw
    independent shots, so repeating one θ measures its shot noise.

    Examples
    --------
    >>> p = torch.tensor([[0.1, 0.2], [0.3, 0.4]], dtype=torch.float64)
    >>> seeds = shifted_circuit_seeds(0, p, torch.tensor([1]))
    >>> len(seeds), seeds[1] == shifted_circuit_seeds(0, p[1:], torch.tensor([1]))[0]
    (4, True)
    """
    rows = params.detach().cpu().to(torch.float64).contiguous().numpy()
    digests: list[tuple[str, int]] = []
    seen: dict[str, int] = {}
    for row in rows:
        digest = hashlib.blake2b(row.tobytes(), digest_size=8).hexdigest()
        seen[digest] = seen.get(digest, -1) + 1
        digests.append((digest, seen[digest]))
    return [derive_seed("shots", seed, digest, int(j), sign)
            for j in indices.tolist() for sign in ("+", "-") for digest in digests]


def sample_expectation(probs: torch.Tensor, diagonal: torch.Tensor, shots: int,
                       generator: torch.Generator | list[int]) -> torch.Tensor:
    """Mean of ``diagonal`` over ``shots`` outcomes drawn from each row of ``probs``.

    Outcomes with equal eigenvalue are pooled (zz has 2 levels, the local cost n + 1), and
    the level counts are drawn as a chain of binomials, exact multinomial sampling.

    Parameters
    ----------
    probs : Tensor[S, 2**n]
        Outcome probabilities per circuit.
    diagonal : Tensor[2**n]
        The observable's eigenvalue per outcome.
    shots : int
    generator : torch.Generator or list[int]
        One generator for all rows, or one seed per row (each row's draws then depend on
        its seed alone).

    Returns
    -------
    Tensor[S] float64

    Examples
    --------
    >>> p = torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    >>> sample_expectation(p, torch.tensor([1.0, -1.0, -1.0, 1.0]), 100, torch.Generator()).tolist()
    [1.0]
    """
    levels, which = torch.unique(diagonal.to(torch.float64).cpu(), return_inverse=True)
    p = probs.detach().to(torch.float64).cpu().clamp_min(0.0)
    pooled = torch.zeros(p.shape[0], len(levels), dtype=torch.float64).index_add_(1, which, p)
    pooled = pooled / pooled.sum(1, keepdim=True)
    if isinstance(generator, torch.Generator):
        total = _binomial_chain(pooled, levels, shots, generator)
    else:
        if len(generator) != p.shape[0]:
            raise ValueError(f"{len(generator)} seeds for {p.shape[0]} rows of probabilities; pass one per row")
        total = torch.cat([_binomial_chain(pooled[r: r + 1], levels, shots, torch.Generator().manual_seed(sd))
                           for r, sd in enumerate(generator)]) if generator else torch.zeros(0, dtype=torch.float64)
    return (total / shots).to(probs.device)


def _binomial_chain(pooled: torch.Tensor, levels: torch.Tensor, shots: int,
                    generator: torch.Generator) -> torch.Tensor:
    """Σ_levels count × level per row, counts multinomial(shots, pooled row) by binomials."""
    left = torch.full((pooled.shape[0],), float(shots), dtype=torch.float64)
    mass = torch.ones(pooled.shape[0], dtype=torch.float64)
    total = torch.zeros(pooled.shape[0], dtype=torch.float64)
    for j, level in enumerate(levels):
        if j == len(levels) - 1:
            counts = left
        else:
            q = (pooled[:, j] / mass.clamp_min(1e-300)).clamp(0.0, 1.0)
            counts = torch.binomial(left, q, generator=generator)
        total += counts * level
        left, mass = left - counts, mass - pooled[:, j]
    return total


def shot_variance(probs: torch.Tensor, diagonal: torch.Tensor, shots: int) -> torch.Tensor:
    """Variance σ²/N of the ``shots``-shot estimate of ⟨H⟩ per row of ``probs``.

    Examples
    --------
    >>> p = torch.tensor([[0.5, 0.0, 0.0, 0.5]], dtype=torch.float64)
    >>> shot_variance(p, torch.tensor([1.0, -1.0, -1.0, -1.0], dtype=torch.float64), 4).tolist()
    [0.25]
    """
    h = diagonal.to(device=probs.device, dtype=probs.dtype)
    return (probs @ h.square() - (probs @ h).square()) / shots


def shift_rows(params: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """The 2k shifted copies of a ``[S, P]`` batch for k partials, as ``[2k·S, P]``.

    Row block 2j is ``params`` with column ``indices[j]`` + π/2, block 2j+1 with − π/2.
    """
    s, n_params = params.shape
    k = len(indices)
    shifts = torch.zeros(2 * k, n_params, dtype=params.dtype, device=params.device)
    rows = torch.arange(k, device=params.device)
    idx = indices.to(params.device)
    shifts[2 * rows, idx] = torch.pi / 2
    shifts[2 * rows + 1, idx] = -torch.pi / 2
    return (params[None] + shifts[:, None]).reshape(2 * k * s, n_params)


def shift_difference(values: torch.Tensor, k: int) -> torch.Tensor:
    """``[S, k]`` gradients (C₊ − C₋)/2 from values of the :func:`shift_rows` batch."""
    v = values.view(k, 2, -1)
    return ((v[:, 0] - v[:, 1]) / 2).T


def sampled_gradient(model, params: torch.Tensor, indices: torch.Tensor, shots: int) -> torch.Tensor:
    """Finite-shot parameter-shift gradients ``[S, k]`` of a circuit model.

    ``model`` supplies ``probabilities(params) -> [B, 2**n]``, ``diagonal`` and ``shot_seed``;
    each shifted circuit draws its shots from its own seed (:func:`shifted_circuit_seeds`).
    """
    probs = model.probabilities(shift_rows(params, indices))
    values = sample_expectation(probs, model.diagonal, shots,
                                shifted_circuit_seeds(model.shot_seed, params, indices))
    return shift_difference(values, len(indices))


@dataclass(frozen=True)
class ShotDecomposition:
    """Measured gradient variance split into landscape variance and shot noise.

    Attributes
    ----------
    landscape : float
        Var_θ[g(θ)] of the exact gradient over the parameter samples.
    shot_noise : float
        E_θ[(σ₊² + σ₋²)/(4N)], the mean analytic shot variance at ``shots`` = N.
    measured : float
        Sample variance of the finite-shot estimates ĝ over the same samples.
    shots : int
    """

    landscape: float
    shot_noise: float
    measured: float
    shots: int

    @property
    def predicted(self) -> float:
        """landscape + shot_noise, what ``measured`` estimates (law of total variance)."""
        return self.landscape + self.shot_noise

    def shots_to_resolve(self, ratio: float = 1.0) -> int:
        """Fewest shots N with shot noise ≤ ``ratio`` × landscape variance (it scales as 1/N).

        Examples
        --------
        >>> ShotDecomposition(landscape=1e-4, shot_noise=0.01, measured=0.0101, shots=100).shots_to_resolve()
        10000
        """
        if not ratio > 0:
            raise ValueError(f"ratio={ratio} is out of range; it must be > 0")
        if not self.landscape > 0:
            raise ValueError(f"landscape variance {self.landscape} is not > 0; no shot count resolves it")
        # Round off float noise first so an exact ratio (1e-2 / 1e-6) does not become ratio + 1.
        return max(1, math.ceil(round(self.shot_noise * self.shots / (ratio * self.landscape), 9)))


def decompose_variance(model, params: torch.Tensor, index: int, shots: int) -> ShotDecomposition:
    """Split the variance of ``model``'s ``shots``-shot gradient ∂C/∂θ_index over ``params``.

    ``model`` is a :class:`qcgrad.quantum.CircuitModel` with a diagonal cost; it supplies the
    exact gradients and the outcome probabilities of the shifted circuits, and ``measured``
    comes from the same finite-shot sampling its ``grad`` uses with ``shots=``.

    Returns
    -------
    ShotDecomposition
    """
    check_shots(shots)
    if shots is None:
        raise ValueError("shots=None has no shot noise; pass an int >= 1")
    if isinstance(index, bool) or not isinstance(index, int):
        raise TypeError(f"index={index!r} must be an int: the one partial derivative to decompose")
    idx = resolve_params(model, index)  # refuses out-of-range and frozen indices, naming the range
    probs = model.probabilities(shift_rows(params, idx))
    exact = shift_difference(probs @ model.diagonal.to(probs), 1)[:, 0]
    var = shot_variance(probs, model.diagonal, shots).view(2, -1)
    noisy = sampled_gradient(model, params, idx, shots)[:, 0]
    return ShotDecomposition(landscape=float(exact.var()), shot_noise=float((var.sum(0) / 4).mean()),
                             measured=float(noisy.var()), shots=shots)


__all__ = ["check_shots", "shifted_circuit_seeds", "sample_expectation", "shot_variance", "shift_rows",
           "shift_difference", "sampled_gradient", "ShotDecomposition", "decompose_variance"]
