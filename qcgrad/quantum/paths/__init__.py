r"""Exact gradient variance by Pauli-path propagation: no sampled angles, no state vectors.

The method
----------
In the Heisenberg picture the cost C(θ) = Tr[ρ U(θ)† O U(θ)] is a sum over Pauli strings
carried backward from O through the circuit. A rotation exp(−iθP/2) leaves a string s that
commutes with P alone and sends an anticommuting one to cos θ·s + sin θ·(i P s). With θ
uniform on [0, 2π), E[cos²θ] = E[sin²θ] = ½ and E[cos θ] = E[sin θ] = E[cos θ sin θ] = 0,
so the *squared* coefficients evolve linearly — a Markov chain: s stays with weight ½ and
moves to i·P·s with weight ½, and cross terms between different paths vanish. Clifford
gates (H, S, CNOT, CZ, SWAP, Paulis) relabel strings. Hence for a Pauli observable,
E_θ[⟨O⟩²] = Σ_s w_s ⟨s⟩²_ρ with w the chain's distribution started at O. The derivative
∂/∂θ_k keeps the ½/½ split at gate k but kills the strings that commute with its generator,
so Var[∂_k C] = E[(∂_k C)²] (the mean is exactly 0 under the uniform init) follows from
the same chain with that one change.

For a Pauli sum O = Σ_j a_j P_j the cross moments E[⟨P_i⟩⟨P_j⟩] are carried as pairs of
strings: the pair product q = s·t is invariant under rotations and conjugated by Cliffords,
and a rotation whose generator anticommutes with q kills the pair (E[cos θ] = 0), so only
pairs whose q survives every rotation are propagated (:mod:`.region`). The ``global``
projector cost enters through its expansion Π(I + Z)/2 into 2^n Z-strings. Random-axis
rotations (``random_pauli``, McClean et al. 2018) average the chain over the axis, each
with probability ⅓. A fixed non-Clifford prefix on the initial product state (the
RY(π/4) layer) is absorbed into ρ, where ⟨s⟩_ρ factorises over qubits. Only the light cone
of gate k matters (:func:`.region.restrict`), so a local cost on 1000 qubits costs what its
light cone costs.

Two evaluations of the chain:

- exact dynamic programming over the reachable strings, a sparse map string → weight
  (:mod:`.exact`), while it stays under :data:`.exact.MAX_STRINGS` strings;
- path Monte Carlo (:mod:`.montecarlo`): paths drawn with the chain's probabilities, all
  advanced together with bit operations on packed strings; unbiased, with the standard
  error of the path values.

References: McClean et al., *Barren plateaus in quantum neural network training
landscapes*, Nat. Commun. 9, 4812 (2018); Cerezo et al., *Cost function dependent barren
plateaus in shallow parametrized quantum circuits*, Nat. Commun. 12, 1791 (2021); Napp,
*Quantifying the barren plateau phenomenon for a model of unstructured variational ansätze*,
arXiv:2203.06174 (2022) (the squared-coefficient random walk and its Monte Carlo); Rudolph,
Fontana, Holmes, Cincio, *Classical surrogate simulation of quantum systems with LOWESA*,
arXiv:2308.09109 (2023); Bermejo, Braccia, Rudolph, Holmes, Cincio, Cerezo, *Quantum
convolutional neural networks are (effectively) classically simulable*, arXiv:2408.12739
(2024); Angrisani, Schmidhuber, Rudolph, Cerezo, Holmes, Huang, *Classically estimating
observables of noiseless quantum circuits*, arXiv:2409.01706 (2024).

Examples
--------
>>> import qcgrad as qg
>>> qc = qg.quantum.circuit("tensor_product", n_qubits=3, cost="global")
>>> est = paths_variance(qc)
>>> est.variance, est.exact, est.se  # Cerezo 2021: (1/8)(3/8)^(n−1)
(0.017578125, True, 0.0)
>>> paths_reason(qg.quantum.circuit("hva", n_qubits=3, n_layers=2)) is not None
True
"""
from __future__ import annotations

import math
import weakref

import numpy as np
import torch
from scipy import stats as sps

from ...gradients import ParamSpec, resolve_params
from ...seeding import derive_seed
from ...stats import VarianceEstimate
from ...validation import check_int
from .exact import TooLarge, second_moment
from .montecarlo import path_values
from .reader import Problem, read
from .region import Region, restrict

#: Paths drawn when ``n_paths`` is None and the exact DP outgrows its map.
DEFAULT_PATHS = 100_000
#: Beyond this many qubits state vectors do not fit: paths are the only way.
STATE_VECTOR_QUBITS = 26
#: ``"auto"`` prefers exact paths when the first partial's light cone has at most this many qubits.
CHEAP_CONE_QUBITS = 8


_READ: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _problem(model) -> Problem:
    """:func:`.reader.read`, once per model: ``method="auto"`` asks for the reason, the
    recommendation and then the variance, and reading records the circuit twice."""
    try:
        cached = _READ.get(model)
    except TypeError:  # not weak-referenceable
        return read(model)
    if cached is None:
        try:
            cached = read(model)
        except ValueError as error:
            cached = error
        _READ[model] = cached
    if isinstance(cached, ValueError):
        raise ValueError(str(cached))
    return cached


def paths_reason(model) -> str | None:
    """Why Pauli paths do not apply to ``model`` (naming the gate or option), or None when they do.

    Examples
    --------
    >>> import qcgrad as qg
    >>> print(paths_reason(qg.quantum.circuit("random_pauli", n_qubits=2, n_layers=2)))
    None
    >>> paths_reason(qg.quantum.circuit("random_pauli", n_qubits=2, shots=100)).split(".")[0]
    'Pauli paths do not apply: shots=100 is set (finite-shot gradients are not modelled)'
    """
    try:
        _problem(model)
    except ValueError as error:
        return str(error)
    return None


def paths_recommended(model) -> bool:
    """True when Pauli paths apply to ``model`` and pay off (what ``method="auto"`` uses).

    They pay when the circuit is too wide for state vectors (more than
    :data:`STATE_VECTOR_QUBITS` qubits), or when the first trainable partial's light cone
    spans at most :data:`CHEAP_CONE_QUBITS` qubits (the exact map then holds at most
    4^8 strings).

    Examples
    --------
    >>> import qcgrad as qg
    >>> paths_recommended(qg.quantum.circuit("tensor_product", n_qubits=20, cost="local"))
    True
    >>> paths_recommended(qg.quantum.circuit("random_pauli", n_qubits=12, n_layers=50))
    False
    """
    try:
        problem = _problem(model)
    except ValueError:
        return False
    if problem.n > STATE_VECTOR_QUBITS:
        return True
    region = restrict(problem, int(resolve_params(model, "first")[0]))
    return region is None or region.n <= CHEAP_CONE_QUBITS


def _check(n_paths: int | None, level: float) -> None:
    if n_paths is not None:
        check_int(1, n_paths=n_paths)
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise ValueError(f"level={level!r} must be a number in (0, 1)")


def paths_variance(model, params: ParamSpec = "first", *, n_paths: int | None = None, seed: int = 0,
                   level: float = 0.95) -> VarianceEstimate:
    """Var[∂C/∂θ] over the uniform init by Pauli-path propagation: exact, or path Monte Carlo.

    Parameters
    ----------
    model : CircuitModel
        A circuit the method covers (:func:`paths_reason` says why not otherwise).
    params : ParamSpec
        Which partials, as :func:`qcgrad.resolve_params` accepts; with several, the
        variance is averaged over them, leaving out those that are zero by construction.
        Every selected partial is one DP run on its light cone (exact), or gets its share of
        the paths, so ``"all"`` costs about k times ``"first"``.
    n_paths : int, optional
        None (default): exact dynamic programming, falling back to :data:`DEFAULT_PATHS`
        sampled paths when the map of strings outgrows :data:`.exact.MAX_STRINGS`. An int
        ≥ 1: path Monte Carlo with that many paths (split at random over the partials).
    seed : int
        Seed of the path sampling (Monte Carlo only).
    level : float
        Confidence level of ``ci``.

    Returns
    -------
    VarianceEstimate
        ``method="paths"``. Exact: ``se = 0``, ``ci = (variance, variance)``,
        ``exact=True``, ``n_samples = 0``. Monte Carlo: ``se`` = standard deviation of the
        path values / √n_paths, a normal ``ci``, ``exact=False``, ``n_samples = n_paths``.
        No angles are sampled: ``samples`` is an empty ``Tensor[0, k]``, ``kurtosis`` is
        NaN and ``mean`` is 0 (exact under the uniform init). ``zero_by_construction``
        lists the partials outside the cost's light cone (and, when exact, every partial
        whose variance is exactly 0).

    Examples
    --------
    >>> import qcgrad as qg
    >>> qc = qg.quantum.circuit("tensor_product", n_qubits=4, cost="local")
    >>> paths_variance(qc, params="all").variance  # Cerezo 2021: 1/(8n²)
    0.0078125
    >>> est = paths_variance(qc, n_paths=1000, seed=0)
    >>> est.exact, est.n_samples
    (False, 1000)
    """
    _check(n_paths, level)
    check_int(0, seed=seed)
    problem = _problem(model)
    indices = resolve_params(model, params).tolist()
    cones = {k: restrict(problem, k) for k in indices}
    regions = {k: region for k, region in cones.items() if region is not None}
    zero = [k for k in indices if k not in regions]
    live = list(regions)
    common = dict(kurtosis=math.nan, mean=0.0, samples=torch.empty(0, len(indices), dtype=torch.float64),
                  indices=indices, seed=seed, params=params, model=model.describe(), method="paths")
    if n_paths is None:
        try:
            moments = {k: second_moment(regions[k]) for k in live}
        except TooLarge:
            n_paths = DEFAULT_PATHS
        else:
            zero = sorted(zero + [k for k, m in moments.items() if m == 0])
            nonzero = [m for m in moments.values() if m != 0]
            variance = float(np.mean(nonzero)) if nonzero else 0.0
            return VarianceEstimate(variance=variance, ci=(variance, variance), se=0.0, n_samples=0,
                                    zero_by_construction=zero, exact=True, **common)
    values = _sampled(regions, live, n_paths, seed)
    variance = float(values.mean())
    se = float(values.std(ddof=1) / math.sqrt(n_paths)) if n_paths > 1 else math.inf
    half = float(sps.norm.ppf(0.5 + level / 2)) * se
    return VarianceEstimate(variance=variance, ci=(variance - half, variance + half), se=se, n_samples=n_paths,
                            zero_by_construction=zero, exact=False, n_paths=n_paths, **common)


def _sampled(regions: dict[int, Region], live: list[int], n_paths: int, seed: int) -> np.ndarray:
    """Path values, each path on a partial drawn uniformly from ``live`` (0 when none is live)."""
    if not live:
        return np.zeros(n_paths)
    counts = np.bincount(np.random.default_rng(derive_seed(seed, "paths")).integers(len(live), size=n_paths),
                         minlength=len(live))
    return np.concatenate([path_values(regions[k], int(c), np.random.default_rng(derive_seed(seed, "paths", k)))
                           for k, c in zip(live, counts, strict=True) if c])


__all__ = ["paths_reason", "paths_recommended", "paths_variance", "DEFAULT_PATHS"]
