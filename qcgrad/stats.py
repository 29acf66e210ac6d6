"""Gradient variance with honest uncertainty, scans over a size knob, and decay fits.

The variance is the unbiased sample variance; its standard error comes from the sample
kurtosis, SE = Var·sqrt((κ − (S−3)/(S−1))/S) (the exact standard deviation of the sample
variance, ≈ Var·sqrt((κ−1)/S)), which is what matters for heavy-tailed (global-cost)
gradients; the 95 % interval is a bootstrap over samples. Moments are computed on samples
rescaled by each column's largest |g|, so variances far below 1e-154 (whose squares underflow)
keep their error bars. Decay fits are weighted least squares on log-variance, the weights
being 1/SE(log Var)² = S/(κ−1).
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import numpy as np
import torch
from scipy import stats as sps

from .gradients import ParamSpec, params_label, per_sample_gradients, resolve_params
from .model import Model
from .seeding import derive_seed
from .validation import check_choice, check_int, check_model, warn_user

#: Kurtosis above which the variance estimate is called heavy-tailed (normal: 3).
HEAVY_TAIL_KURTOSIS = 10.0
SIZE_KNOBS = ("n_qubits", "depth", "n_layers", "seq_len", "width")
#: How ``gradient_variance`` obtains the variance: sampled gradients, Pauli-path propagation
#: (:mod:`qcgrad.quantum.paths`), or paths where they apply and pay and sampling otherwise.
METHODS = ("sample", "paths", "auto")
#: Fewest bootstrap replicates: a 95 % percentile interval needs several in each 2.5 % tail.
MIN_BOOT = 100


class HeavyTailWarning(UserWarning):
    """The gradient distribution is heavy-tailed: the variance needs many samples."""


class ZeroGradientWarning(UserWarning):
    """Selected partial derivatives are zero by construction (structure or below the model's tolerance)."""


class VanishedGradientWarning(UserWarning):
    """Partials are exactly zero in every sample although the model does not explain it structurally.

    Underflow or saturation: the gradient vanished numerically. Unlike zero-by-construction
    partials these stay in the average (their computed variance is 0).
    """


class NonFiniteGradientWarning(UserWarning):
    """Some gradient samples were NaN or infinite and were left out (``nonfinite="report"``)."""


class DecayFitWarning(UserWarning):
    """A decay fit left out points whose variance is not a positive finite number, or met repeated knob values."""


@dataclass
class VarianceEstimate:
    """Variance of per-sample gradients, with its uncertainty.

    Attributes
    ----------
    variance : float
        Unbiased variance; averaged over the selected partials when there are several
        (partials that are zero by construction left out).
    ci : tuple[float, float]
        Bootstrap 95 % interval of ``variance``.
    se : float
        Standard error: Var·sqrt((κ − (S−3)/(S−1))/S) for one partial, the bootstrap spread
        otherwise.
    kurtosis : float
        Sample kurtosis κ (3 for a normal distribution); mean over partials; NaN when the
        variance is 0.
    mean : float
        Mean gradient (averaged over partials); ≈ 0 on a plateau.
    n_samples : int
        Samples the statistics use (finite ones only, with ``nonfinite="report"``).
    samples : Tensor[n_samples, k]
        The per-sample gradients used.
    indices : list[int]
        Parameter indices of the k columns of ``samples``.
    zero_by_construction : list[int]
        Indices that are zero whatever the parameters: marked by ``model.structural_zeros()``
        or below ``model.gradient_tolerance()`` in every sample. Left out of the averages.
    seed : int
    params
        The ``params`` spec as given.
    model : dict
        ``model.describe()``.
    method : {"sample", "paths"}
        How the variance was obtained: sampling gradients, or Pauli-path propagation.
    exact : bool
        True when the variance is exact (no sampling error), e.g. an exact path sum.
    n_paths : int or None
        Pauli paths sampled (path Monte Carlo); None otherwise.
    vanished : list[int]
        Indices exactly zero in every sample that the model does not explain structurally
        (underflow or saturation); kept in the averages.
    n_nonfinite : int
        NaN/inf samples left out (only with ``nonfinite="report"``).
    """

    variance: float
    ci: tuple[float, float]
    se: float
    kurtosis: float
    mean: float
    n_samples: int
    samples: torch.Tensor = field(repr=False)
    indices: list[int] = field(repr=False)
    zero_by_construction: list[int] = field(repr=False)
    seed: int = 0
    params: ParamSpec = "first"
    model: dict[str, Any] = field(default_factory=dict, repr=False)
    method: str = "sample"
    exact: bool = False
    n_paths: int | None = None
    vanished: list[int] = field(default_factory=list, repr=False)
    n_nonfinite: int = 0

    @property
    def rel_err(self) -> float:
        """Relative standard error SE/Var (0 for an exact value, inf when Var = 0)."""
        return self.se / self.variance if self.variance > 0 else math.inf

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the samples); a NaN kurtosis becomes None."""
        return {
            "variance": self.variance, "ci": list(self.ci), "se": self.se,
            "kurtosis": self.kurtosis if math.isfinite(self.kurtosis) else None,
            "mean": self.mean, "n_samples": self.n_samples,
            "params": params_label(self.params), "n_partials": len(self.indices),
            "zero_by_construction": len(self.zero_by_construction), "vanished": len(self.vanished),
            "nonfinite_fraction": self.n_nonfinite / max(self.n_samples + self.n_nonfinite, 1),
            "seed": self.seed, "model": self.model, "method": self.method, "exact": self.exact,
            "n_paths": self.n_paths,
        }


def column_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column: unbiased variance in units of the column's scale², kurtosis m4/m2², scale.

    The scale is the column's largest |x| (1 for an all-zero column). Working on x/scale keeps
    m2² and m4 far from underflow (and overflow): the variance in the original units is
    ``var · scale²``, the kurtosis is scale free.

    Examples
    --------
    >>> var, kurt, scale = column_moments(np.array([[1e-170], [-1e-170]]))
    >>> var, kurt, scale  # the variance 2e-340 itself is below float64's range; var·scale² = 2e-340
    (array([2.]), array([1.]), array([1.e-170]))
    """
    scale = np.abs(x).max(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    y = x / scale
    centered = y - y.mean(axis=0)
    m2 = (centered**2).mean(axis=0)
    m4 = (centered**4).mean(axis=0)
    s = x.shape[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        kurt = np.where(m2 > 0, m4 / m2**2, np.nan)
    return m2 * s / (s - 1), kurt, scale


def dead_partials(
    x: np.ndarray,
    indices: Sequence[int],
    structural_zeros: torch.Tensor | np.ndarray | None = None,
    tolerance: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Which columns of ``x`` (samples × partials) are zero by construction, and which vanished.

    Parameters
    ----------
    x : ndarray[S, k]
        Per-sample gradients of the partials ``indices``.
    indices : sequence of int
        Parameter index of each column.
    structural_zeros : bool mask over the model's parameter vector, optional
        ``model.structural_zeros()``.
    tolerance : float, optional
        ``model.gradient_tolerance()``: |g| at or below it is rounding noise of an exact zero.

    Returns
    -------
    zero_by_construction, vanished : bool ndarray[k]
        Zero by construction: structural, or within the tolerance in every sample. Vanished:
        exactly zero in every sample with no tolerance and no structural reason (underflow or
        saturation).

    Examples
    --------
    >>> x = np.array([[0.0, 1e-17, 0.0, 1.0], [0.0, -1e-17, 0.0, 2.0]])
    >>> dead_partials(x, [0, 1, 2, 3], np.array([True, False, False, False]), tolerance=1e-15)
    (array([ True,  True,  True, False]), array([False, False, False, False]))
    >>> dead_partials(x, [0, 1, 2, 3])
    (array([False, False, False, False]), array([ True, False,  True, False]))
    """
    k = x.shape[1]
    structural = np.zeros(k, dtype=bool)
    if structural_zeros is not None:
        mask = np.asarray(structural_zeros.cpu() if isinstance(structural_zeros, torch.Tensor)
                          else structural_zeros, dtype=bool)
        structural = mask[np.asarray(indices, dtype=np.int64)] if k else structural
    exact_zero = np.all(x == 0, axis=0)
    if tolerance is None:
        return structural, exact_zero & ~structural
    return structural | np.all(np.abs(x) <= tolerance, axis=0), np.zeros(k, dtype=bool)


def finite_rows(x: np.ndarray, nonfinite: str = "raise") -> np.ndarray:
    """Bool mask of the samples (rows) whose gradients are all finite.

    With ``nonfinite="raise"`` any NaN/inf sample raises ValueError saying how many there are.
    """
    check_choice("nonfinite", nonfinite, ("raise", "report"))
    ok = np.isfinite(x).all(axis=1)
    bad = int((~ok).sum())
    if bad and nonfinite == "raise":
        raise ValueError(
            f"{bad} of {len(ok)} gradient samples are not finite (NaN or ±inf): the cost or its "
            "gradient overflowed, or a knob is not finite. Fix the model, or pass "
            "nonfinite='report' for statistics of the finite samples and the non-finite fraction")
    return ok


def _check_stats_options(n_boot: int, level: float) -> None:
    check_int(MIN_BOOT, n_boot=n_boot)
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise ValueError(f"level={level!r} is not allowed; it must be a number in (0, 1), e.g. 0.95")


def _bootstrap_variances(y: np.ndarray, weights: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Bootstrap replicates of the weighted column average of unbiased variances of ``y``.

    Resampling is expressed as multinomial counts so memory is O(n_boot·k), not
    O(n_boot·S·k).
    """
    s = y.shape[0]
    rng = np.random.default_rng(derive_seed(seed, "bootstrap"))
    counts = rng.multinomial(s, np.full(s, 1.0 / s), size=n_boot).astype(np.float64)
    centered = y - y.mean(axis=0)  # variance is shift invariant; centring keeps sums exact
    m1 = counts @ centered / s
    m2 = counts @ centered**2 / s
    return ((m2 - m1**2) * s / (s - 1) * weights).mean(axis=1)


def _summarize(
    samples: torch.Tensor,
    indices: Iterable[int],
    seed: int,
    params: ParamSpec,
    model: dict[str, Any] | None,
    n_boot: int,
    level: float,
    structural_zeros: torch.Tensor | np.ndarray | None,
    tolerance: float | None,
    nonfinite: str,
) -> tuple[VarianceEstimate, list[tuple[type[Warning], str]]]:
    """:func:`summarize` without emitting: the estimate and the warnings it calls for."""
    _check_stats_options(n_boot, level)
    notes: list[tuple[type[Warning], str]] = []
    x_all = samples.detach().to(torch.float64).cpu().numpy()
    indices = list(indices)
    if x_all.ndim != 2 or x_all.shape[1] != len(indices):
        raise ValueError(f"samples must be a Tensor[S, k] with k = len(indices) = {len(indices)}; "
                         f"got shape {tuple(samples.shape)}")
    ok = finite_rows(x_all, nonfinite)
    n_bad = int((~ok).sum())
    if n_bad:
        notes.append((NonFiniteGradientWarning,
                      f"{n_bad} of {len(ok)} gradient samples ({n_bad / len(ok):.1%}) are not finite "
                      "(NaN or ±inf) and are left out; the statistics describe the finite ones only"))
        x_all, samples = x_all[ok], samples[torch.from_numpy(ok)]
    s = x_all.shape[0]
    if s < 2:
        raise ValueError(f"only {s} of {len(ok)} samples are finite; a variance needs at least 2"
                         if n_bad else f"n_samples={s} is too few; a variance needs at least 2 samples")
    zero, vanished = dead_partials(x_all, indices, structural_zeros, tolerance)
    zero_idx = [i for i, z in zip(indices, zero, strict=True) if z]
    vanished_idx = [i for i, z in zip(indices, vanished, strict=True) if z]
    if zero.all():
        notes.append((ZeroGradientWarning,
                      f"all {len(indices)} selected partials are zero by construction in all {s} "
                      "samples; variance is 0"))
        x = np.zeros_like(x_all)  # rounding noise below the tolerance is an exact zero
    else:
        if zero_idx:
            notes.append((ZeroGradientWarning,
                          f"{len(zero_idx)} of {len(indices)} partials are zero by construction "
                          "and left out of the average"))
        x = x_all[:, ~zero]
    if vanished_idx:
        notes.append((VanishedGradientWarning,
                      f"{len(vanished_idx)} of {len(indices)} partials are exactly 0 in all {s} samples "
                      "although the model's structure does not make them zero: the gradient vanished "
                      "numerically (underflow or saturation); they count as variance 0 in the average"))
    # A canonical row order makes every statistic, the bootstrap included, exactly invariant to
    # the order of the samples (a permuted sample is the same sample).
    x = x[np.lexsort(x.T[::-1])]
    var_cols, kurt_cols, scale = column_moments(x)
    top = float(scale.max())
    weights = (scale / top) ** 2  # columns in units of the largest scale: nothing underflows
    var_rel = float((var_cols * weights).mean())
    variance = var_rel * top * top
    if not math.isfinite(variance):
        raise ValueError(f"the gradient variance overflows float64 (|∂C/∂θ| up to {top:.3g}); "
                         "check the model's scale knobs")
    kurtosis = float(np.nanmean(kurt_cols)) if np.isfinite(kurt_cols).any() else math.nan
    boot = _bootstrap_variances(x / scale, weights, n_boot, seed) if var_rel > 0 else np.zeros(1)
    alpha = (1 - level) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    ci = (float(low) * top * top, float(high) * top * top)
    if x.shape[1] == 1 and math.isfinite(kurtosis):
        se = variance * math.sqrt(max(kurtosis - (s - 3) / (s - 1), 0.0) / s)
    else:
        se = float(boot.std(ddof=1)) * top * top if boot.size > 1 else 0.0
    if math.isfinite(kurtosis) and kurtosis > HEAVY_TAIL_KURTOSIS:
        needed = math.ceil((kurtosis - 1) / 0.1**2)
        notes.append((HeavyTailWarning,
                      f"gradient distribution is heavy-tailed (kurtosis {kurtosis:.1f} ≫ 3): the variance "
                      f"has relative error {se / variance:.0%} at S={s}; about S={needed} samples give 10 % "
                      "(S ≈ (κ−1)/0.1²): pass n_samples, or rel_err=0.1 to draw them adaptively"))
    est = VarianceEstimate(
        variance=variance, ci=ci, se=se, kurtosis=kurtosis, mean=float(x.mean()),
        n_samples=s, samples=samples, indices=indices, zero_by_construction=zero_idx,
        seed=seed, params=params, model=model or {}, vanished=vanished_idx, n_nonfinite=n_bad)
    return est, notes


def _emit(notes: list[tuple[type[Warning], str]]) -> None:
    for category, message in notes:
        warn_user(message, category)


def summarize(
    samples: torch.Tensor,
    indices: Iterable[int],
    seed: int = 0,
    params: ParamSpec = "first",
    model: dict[str, Any] | None = None,
    n_boot: int = 2000,
    level: float = 0.95,
    *,
    structural_zeros: torch.Tensor | np.ndarray | None = None,
    tolerance: float | None = None,
    nonfinite: Literal["raise", "report"] = "raise",
) -> VarianceEstimate:
    """Variance statistics of a ``Tensor[S, k]`` of per-sample gradients.

    Use this to recompute statistics from stored gradients; :func:`gradient_variance`
    draws the gradients and calls it.

    Parameters
    ----------
    samples : Tensor[S, k]
    indices : sequence of int
        Parameter index of each column.
    seed : int
        Seeds the bootstrap.
    params, model
        Recorded in the estimate (the spec and ``model.describe()``).
    n_boot : int
        Bootstrap replicates (≥ 100).
    level : float
        Confidence level of the interval, in (0, 1).
    structural_zeros, tolerance
        ``model.structural_zeros()`` and ``model.gradient_tolerance()`` (see
        ``qcgrad.stats.dead_partials``): zero-by-construction partials are left out of the averages.
    nonfinite : {"raise", "report"}
        NaN/inf samples raise ValueError, or are left out with a warning and counted in
        ``n_nonfinite``.

    Examples
    --------
    >>> g = torch.tensor([[1.0], [-1.0], [3.0], [-3.0]])
    >>> summarize(g, [0]).variance  # (1 + 1 + 9 + 9) / 3
    6.666666666666667
    """
    est, notes = _summarize(samples, indices, seed, params, model, n_boot, level,
                            structural_zeros, tolerance, nonfinite)
    _emit(notes)
    return est


def check_method(method: object, n_paths: object) -> None:
    """Raise ValueError unless ``method`` is one of :data:`METHODS` and ``n_paths`` is None or an int ≥ 1."""
    check_choice("method", method, METHODS)
    if n_paths is not None:
        check_int(1, n_paths=n_paths)


def _paths_module() -> Any:
    """The Pauli-path module, imported only when a path method is asked for."""
    import importlib

    return importlib.import_module("qcgrad.quantum.paths")


def choose_method(model: Model, method: str) -> str:
    """The method ``gradient_variance`` uses for ``model``: "sample" or "paths".

    "paths" raises ValueError with the reason when Pauli-path propagation does not apply;
    "auto" picks paths where they apply and pay (``paths_recommended``), else sampling.

    Examples
    --------
    >>> import qcgrad as qg
    >>> choose_method(qg.classical.tower(depth=2), "sample")
    'sample'
    """
    check_choice("method", method, METHODS)
    if method == "sample":
        return "sample"
    paths = _paths_module()
    reason = paths.paths_reason(model)
    if method == "paths":
        if reason is not None:
            raise ValueError(f"method='paths' does not apply to this model: {reason}. "
                             "Use method='sample' (or 'auto', which falls back to sampling)")
        return "paths"
    return "paths" if reason is None and paths.paths_recommended(model) else "sample"


def gradient_variance(
    model: Model,
    n_samples: int = 200,
    seed: int = 0,
    params: ParamSpec = "first",
    rel_err: float | None = None,
    max_samples: int = 100_000,
    chunk_size: int | None = None,
    n_boot: int = 2000,
    *,
    method: Literal["sample", "paths", "auto"] = "sample",
    n_paths: int | None = None,
    level: float = 0.95,
    nonfinite: Literal["raise", "report"] = "raise",
) -> VarianceEstimate:
    """Variance of ∂C/∂θ over the model's initialization distribution.

    Parameters
    ----------
    model : Model
    n_samples : int
        Samples drawn (the first batch, in adaptive mode). At least 2.
    seed : int
        Seed (an int ≥ 0) of the sample stream; the same seed gives the same numbers for
        any ``chunk_size`` and on any executor.
    params : ParamSpec
        Which partials: ``"first"`` trainable parameter, ``"all"`` of them (variance averaged
        over parameters), an index, a group name such as ``"layer:0"``, a list of indices or
        group names, a slice, a boolean mask, or a callable ``model -> indices`` (see
        :func:`qcgrad.resolve_params`).
    rel_err : float, optional
        Adaptive mode: keep drawing until SE/Var ≤ rel_err (or ``max_samples``).
    max_samples : int
        Cap for adaptive mode.
    chunk_size : int, optional
        Samples per gradient call (memory); an int ≥ 1.
    n_boot : int
        Bootstrap replicates for the CI (≥ 100).
    method : {"sample", "paths", "auto"}
        "sample": draw gradients. "paths": Pauli-path propagation
        (``qcgrad.quantum.paths.paths_variance``; exact, or path Monte Carlo with
        ``n_paths``), for circuits it applies to (else ValueError with the reason). "auto":
        paths where they apply and pay, sampling otherwise; ``est.method`` records which.
        ``rel_err``, ``max_samples``, ``chunk_size``, ``n_boot`` and ``nonfinite`` apply to
        sampling.
    n_paths : int, optional
        Paths for path Monte Carlo (``method="paths"``/``"auto"``).
    level : float
        Confidence level of ``ci``.
    nonfinite : {"raise", "report"}
        NaN/inf gradients raise ValueError (default), or are left out with a warning.

    Returns
    -------
    VarianceEstimate

    Examples
    --------
    >>> import qcgrad as qg
    >>> est = qg.gradient_variance(qg.classical.tower(depth=5, activation="sigmoid"), n_samples=50)
    >>> est.ci[0] <= est.variance <= est.ci[1], est.method
    (True, 'sample')
    """
    check_model(model)
    check_int(2, n_samples=n_samples)
    check_int(0, seed=seed)
    check_int(n_samples, max_samples=max_samples)
    if chunk_size is not None:
        check_int(1, chunk_size=chunk_size)
    if rel_err is not None and (isinstance(rel_err, bool) or not isinstance(rel_err, (int, float))
                                or not 0 < rel_err < math.inf):
        raise ValueError(f"rel_err={rel_err!r} is not allowed; it must be a number > 0")
    _check_stats_options(n_boot, level)
    check_choice("nonfinite", nonfinite, ("raise", "report"))
    check_method(method, n_paths)
    indices = resolve_params(model, params).tolist()
    if choose_method(model, method) == "paths":
        return _paths_module().paths_variance(model, params, n_paths=n_paths, seed=seed, level=level)
    describe = model.describe()
    structural, tolerance = model.structural_zeros(), model.gradient_tolerance()
    grads = per_sample_gradients(model, n_samples, seed, params, chunk_size=chunk_size)
    est, notes = _summarize(grads, indices, seed, params, describe, n_boot, level, structural, tolerance, nonfinite)
    while rel_err is not None and est.rel_err > rel_err and len(grads) < max_samples:
        # SE/Var ≈ sqrt((κ−1)/S): the S that meets the target, with 20 % headroom.
        kappa = est.kurtosis if np.isfinite(est.kurtosis) else 3.0
        target = int(1.2 * (kappa - 1) / rel_err**2) + 1
        extra = min(max(target - len(grads), len(grads) // 2, 1), max_samples - len(grads))
        more = per_sample_gradients(model, extra, seed, params, start=len(grads), chunk_size=chunk_size)
        grads = torch.cat([grads, more])
        # Only the final estimate's warnings reach the user.
        est, notes = _summarize(grads, indices, seed, params, describe, n_boot, level, structural, tolerance, nonfinite)
    if rel_err is not None and est.rel_err > rel_err:
        notes = [(c, m) for c, m in notes if c is not HeavyTailWarning]
        notes.append((HeavyTailWarning, f"rel_err={rel_err} not reached at max_samples={max_samples} "
                                        f"(reached {est.rel_err:.3f})"))
    elif rel_err is not None:
        notes = [(c, m) for c, m in notes if c is not HeavyTailWarning]
    _emit(notes)
    return est


@dataclass
class DecayFit:
    """A fit of Var ∝ b^-x (exponential) or Var ∝ x^-rate (power) over a size knob.

    Attributes
    ----------
    kind : {"exponential", "power"}
    rate : float
        Decay rate: −d log Var / dx (exponential) or −d log Var / d log x (power).
    rate_ci : tuple[float, float]
        95 % interval of ``rate``: normal with the known weights, widened by the reduced
        χ² (and Student's t) when the points scatter more than their error bars allow.
    base : float or None
        b = e^rate for the exponential fit, so Var ∝ b^-x ("2^-n" reads b ≈ 2); None for power.
    r2 : float
        Weighted coefficient of determination on log-variance.
    intercept : float
        log Var at x = 0 (exponential) or at log x = 0 (power).
    aic : dict[str, float]
        AIC of both models (weighted χ² + 2·2); the smaller one was chosen in "auto".
    knob : str
    """

    kind: Literal["exponential", "power"]
    rate: float
    rate_ci: tuple[float, float]
    base: float | None
    r2: float
    intercept: float
    aic: dict[str, float]
    knob: str = "x"

    def predict(self, x: Any) -> np.ndarray:
        """Fitted variance at ``x``."""
        x = np.asarray(x, dtype=float)
        t = x if self.kind == "exponential" else np.log(x)
        return np.exp(self.intercept - self.rate * t)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "rate": self.rate, "rate_ci": list(self.rate_ci),
                "base": self.base, "r2": self.r2, "intercept": self.intercept,
                "aic": self.aic, "knob": self.knob}


def _wls_line(t: np.ndarray, y: np.ndarray, w: np.ndarray, level: float,
              known: bool = True) -> tuple[np.ndarray, float, float, float]:
    """Weighted straight line y = a + b·t: (coef, half-width of the slope interval, chi2, r2).

    With ``known`` weights (inverse variances) the slope's variance is known and the interval
    is normal. When the points scatter more than their error bars allow (χ² beyond its 95 %
    quantile: model misfit or correlated noise), or when the error bars are unknown, the
    covariance is scaled by χ²/dof and the interval uses Student's t.
    """
    design = np.column_stack([np.ones_like(t), t])
    normal = design.T @ (w[:, None] * design)
    coef = np.linalg.solve(normal, design.T @ (w * y))
    resid = y - design @ coef
    chi2 = float(np.sum(w * resid**2))
    dof = len(t) - 2
    slope_var = float(np.linalg.inv(normal)[1, 1])
    if dof > 0 and (not known or chi2 > sps.chi2.ppf(0.95, dof)):
        half = sps.t.ppf(0.5 + level / 2, dof) * math.sqrt(slope_var * chi2 / dof)
    else:
        half = sps.norm.ppf(0.5 + level / 2) * math.sqrt(slope_var)
    ybar = np.sum(w * y) / np.sum(w)
    total = float(np.sum(w * (y - ybar) ** 2))
    r2 = 1 - chi2 / total if total > 0 else 1.0
    return coef, float(half), chi2, r2


def fit_decay(
    values: Iterable[float],
    variances: Iterable[float],
    rel_errs: Iterable[float] | None = None,
    kind: Literal["auto", "exponential", "power"] = "auto",
    knob: str = "x",
    level: float = 0.95,
) -> DecayFit:
    """Fit log Var against the knob (exponential) or log knob (power) by weighted least squares.

    Points whose variance is not a positive finite number are left out with a
    ``qcgrad.stats.DecayFitWarning`` naming their knob values; nothing is dropped silently.

    Parameters
    ----------
    values, variances : sequences of equal length
        At least 3 distinct knob values with Var > 0. Repeated knob values are treated as
        independent measurements (with a warning).
    rel_errs : sequence, optional
        Relative standard errors SE/Var (finite, > 0); weights are their inverse squares.
        When omitted (e.g. exact variances) the points get equal weights and the interval
        comes from their scatter about the line (Student's t).
    kind : {"auto", "exponential", "power"}
        "auto" picks the model with the smaller AIC.
    knob : str
        Name of the knob, for records and messages.
    level : float
        Confidence level of ``rate_ci``, in (0, 1).

    Returns
    -------
    DecayFit

    Examples
    --------
    >>> n = [2, 3, 4, 5, 6]
    >>> fit = fit_decay(n, [2.0 ** -k for k in n])
    >>> fit.kind, round(fit.base, 6)
    ('exponential', 2.0)
    """
    if kind not in ("auto", "exponential", "power"):
        raise ValueError(f"kind={kind!r} is not allowed; use 'auto', 'exponential' or 'power'")
    _check_stats_options(MIN_BOOT, level)
    x = np.asarray(list(values), dtype=float)
    v = np.asarray(list(variances), dtype=float)
    r = None if rel_errs is None else np.asarray(list(rel_errs), dtype=float)
    if x.ndim != 1 or v.shape != x.shape or (r is not None and r.shape != x.shape):
        lengths = ", ".join(str(len(a)) for a in (x, v, r) if a is not None)
        raise ValueError(f"values, variances and rel_errs must be 1-d sequences of equal length; got lengths {lengths}")
    if not np.isfinite(x).all():
        raise ValueError(f"{knob} values must be finite numbers; got {x.tolist()}")
    keep = (v > 0) & np.isfinite(v)
    if not keep.all():
        dropped = ", ".join(f"{knob}={xi:g} (variance {vi:g})" for xi, vi in zip(x[~keep], v[~keep], strict=True))
        warn_user(f"the decay fit leaves out {int((~keep).sum())} of {len(x)} points whose variance is not "
                  f"a positive finite number (log-variance undefined): {dropped}", DecayFitWarning)
    x, v = x[keep], v[keep]
    distinct, counts = np.unique(x, return_counts=True)
    if len(distinct) < 3:
        raise ValueError(f"a decay fit needs at least 3 distinct {knob} values with variance > 0; "
                         f"got {distinct.tolist()}")
    if (counts > 1).any():
        warn_user(f"repeated {knob} values {distinct[counts > 1].tolist()} are treated as independent "
                  "measurements in the decay fit", DecayFitWarning)
    if r is not None:
        r = r[keep]
        bad = ~(np.isfinite(r) & (r > 0))
        if bad.any():
            raise ValueError(f"rel_errs must be finite and > 0 (they weight the fit); got {r[bad].tolist()} "
                             f"at {knob}={x[bad].tolist()}; for exact variances pass rel_errs=None")
    w = np.ones_like(v) if r is None else 1.0 / r**2
    y = np.log(v)
    known = r is not None
    fits = {"exponential": _wls_line(x, y, w, level, known)}
    if np.all(x > 0):
        fits["power"] = _wls_line(np.log(x), y, w, level, known)
    elif kind == "power":
        raise ValueError(f"a power-law fit needs every {knob} value > 0; got {x.tolist()}")
    aic = {name: f[2] + 4.0 for name, f in fits.items()}
    chosen: Literal["exponential", "power"] = (
        ("exponential" if aic["exponential"] <= aic.get("power", math.inf) else "power") if kind == "auto" else kind)
    coef, half, _, r2 = fits[chosen]
    rate = -float(coef[1])
    return DecayFit(
        kind=chosen, rate=rate, rate_ci=(rate - half, rate + half),
        base=math.exp(rate) if chosen == "exponential" else None,
        r2=r2, intercept=float(coef[0]), aic=aic, knob=knob)


@dataclass
class Scan:
    """Variance estimates over values of one size knob."""

    knob: str
    values: list[Any]
    estimates: list[VarianceEstimate]

    @property
    def variances(self) -> np.ndarray:
        return np.array([e.variance for e in self.estimates])

    def fit(self, kind: Literal["auto", "exponential", "power"] = "auto") -> DecayFit:
        """Weighted decay fit of variance against the knob (see :func:`fit_decay`).

        Sampled points are weighted by their relative standard errors; exact (Pauli-path)
        points are weighted equally, the interval coming from their scatter. A scan mixing
        the two raises ValueError. Points with variance 0 are left out with a warning naming
        them.
        """
        exact = [e.exact for e in self.estimates]
        if any(exact) and not all(exact):
            raise ValueError("this scan mixes exact (Pauli-path) and sampled points, whose error bars cannot "
                             "weight one fit; fit them separately with fit_decay, or rerun with one method")
        rel_errs = None if all(exact) else [e.rel_err for e in self.estimates]
        return fit_decay(self.values, self.variances, rel_errs, kind=kind, knob=self.knob)

    def converged(self, tail: int = 3, level: float = 0.05) -> bool:
        """Whether the variance has stopped moving with the knob over the last ``tail`` points.

        A χ² test of the last points against their weighted mean, with each point's standard
        error: use it on a scan over depth before fitting variance against width or qubits
        (random circuits need depth of order 12n before Var(L) reaches its 2-design value).

        Examples
        --------
        >>> import qcgrad as qg
        >>> s = qg.scan(lambda d: qg.classical.tower(depth=d, activation="relu"), [2, 4, 6], n_samples=50)
        >>> s.converged()
        True
        """
        if not 2 <= tail <= len(self.estimates):
            raise ValueError(f"tail={tail} must be between 2 and the number of points ({len(self.estimates)})")
        last = self.estimates[-tail:]
        v = np.array([e.variance for e in last])
        se = np.array([e.se for e in last])
        if np.any(se <= 0):
            return bool(np.all(v == v[0]))
        w = 1 / se**2
        mean = np.sum(w * v) / np.sum(w)
        chi2 = float(np.sum(w * (v - mean) ** 2))
        return bool(sps.chi2.sf(chi2, tail - 1) > level)

    def records(self) -> list[dict[str, Any]]:
        """One dict per point: knob value, variance, ci, se, n_samples, model description."""
        return [{"knob": self.knob, "value": v, **e.to_dict()}
                for v, e in zip(self.values, self.estimates, strict=True)]

    def predicted(self, build: Callable[[Any], Model] | None = None, of: str = "gradient") -> list[Any]:
        """The theory value at every point, or the reason none applies.

        See :func:`qcgrad.theory.predicted`; ``build`` (the scan's builder) is needed for
        user circuits, which cannot be rebuilt from their description.
        """
        from .theory import predicted

        return predicted(self, build, of)

    def compare_theory(self, build: Callable[[Any], Model] | None = None, of: str = "gradient",
                       z_max: float = 3.0, rtol: float = 0.1) -> list[dict[str, Any]]:
        """Measured vs predicted per point: ratio, z-score from the estimator's SE, verdict.

        See :func:`qcgrad.theory.compare_theory`.

        Examples
        --------
        >>> import qcgrad as qg
        >>> s = qg.scan(lambda n: qg.quantum.circuit("tensor_product", n_qubits=n, cost="local"), [2, 3, 4],
        ...             n_samples=2000)
        >>> [row["verdict"] for row in s.compare_theory()]
        ['agrees', 'agrees', 'agrees']
        """
        from .theory import compare_theory

        return compare_theory(self, build, of, z_max=z_max, rtol=rtol)


def _infer_knob(values: list[Any], descriptions: list[dict[str, Any]]) -> str:
    """The description key that carries the scanned value at every point."""
    candidates = [k for k in descriptions[0]
                  if all(d.get(k) == v for d, v in zip(descriptions, values, strict=True))]
    for name in SIZE_KNOBS:
        if name in candidates:
            return name
    return candidates[0] if candidates else "value"


def with_point_warnings(label: str, work: Callable[[], Any]) -> Any:
    """``work()``, its warnings re-emitted once each, prefixed by ``label``, at the user's call.

    Used wherever qcgrad loops over points (scans, profiles): each warning names the point
    it belongs to, and the same message from one point is shown once.

    Examples
    --------
    >>> with_point_warnings("depth=3", lambda: 42)
    42
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = work()
    for category, message in dict.fromkeys((w.category, str(w.message)) for w in caught):
        warn_user(f"{label}: {message}", category)
    return result


def _short(model: Model, limit: int = 100) -> str:
    text = repr(model)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def scan(
    build: Callable[[Any], Model],
    values: Iterable[Any],
    n_samples: int = 200,
    seed: int = 0,
    params: ParamSpec = "first",
    knob: str | None = None,
    *,
    method: Literal["sample", "paths", "auto"] = "sample",
    **variance_kwargs: Any,
) -> Scan:
    """Gradient variance at each value of a size knob.

    Parameters
    ----------
    build : callable
        ``value -> Model``.
    values : iterable
        Distinct knob values (e.g. ``range(2, 11)`` qubits).
    n_samples, params, method
        As in :func:`gradient_variance`; ``method="auto"`` decides per point.
    seed : int
        Study seed (an int ≥ 0); each point's seed is derived from (seed, value).
    knob : str, optional
        Name of the knob; inferred from the models' descriptions when omitted.
    **variance_kwargs
        Passed to :func:`gradient_variance` (``rel_err``, ``chunk_size``, ``n_paths``, ...).

    Warnings raised at a point are shown once per point, prefixed with the knob value and the
    model.

    Returns
    -------
    Scan

    Examples
    --------
    >>> import qcgrad as qg
    >>> s = qg.scan(lambda d: qg.classical.tower(depth=d, activation="sigmoid"), [2, 4, 6, 8], n_samples=50)
    >>> s.knob, len(s.records())
    ('depth', 4)
    """
    if not callable(build):
        raise TypeError(f"build={build!r} is not callable; pass a function value -> Model")
    if values is None or isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"values={values!r} is not allowed; give an iterable of knob values, e.g. range(2, 9)")
    values = list(values)
    if not values:
        raise ValueError("values is empty; a scan needs at least one knob value")
    repeated = [v for i, v in enumerate(values) if v in values[:i]]
    if repeated:
        raise ValueError(f"values repeat {repeated}: each point's seed derives from its value, so a repeated "
                         "value would count the same samples twice; give distinct values")
    check_int(2, n_samples=n_samples)
    check_int(0, seed=seed)
    check_method(method, variance_kwargs.get("n_paths"))
    models = [build(v) for v in values]
    for model in models:
        check_model(model)
    name = knob or _infer_knob(values, [m.describe() for m in models])
    estimates = [
        with_point_warnings(f"{name}={v!r} ({_short(m)})", partial(
            gradient_variance, m, n_samples=n_samples, seed=derive_seed(seed, v), params=params, method=method,
            **variance_kwargs))
        for m, v in zip(models, values, strict=True)]
    return Scan(knob=name, values=values, estimates=estimates)
