"""Gradient variance with honest uncertainty, scans over a size knob, and decay fits.

The variance is the unbiased sample variance; its standard error comes from the sample
kurtosis, SE = Var·sqrt((κ−1)/S), which is what matters for heavy-tailed (global-cost)
gradients; the 95 % interval is a bootstrap over samples. Decay fits are weighted least
squares on log-variance, the weights being 1/SE(log Var)² = S/(κ−1).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Literal

import numpy as np
import torch
from scipy import stats as sps

from .gradients import ParamSpec, per_sample_gradients, resolve_params
from .model import Model
from .seeding import derive_seed
from .validation import check_int

#: Kurtosis above which the variance estimate is called heavy-tailed (normal: 3).
HEAVY_TAIL_KURTOSIS = 10.0
SIZE_KNOBS = ("n_qubits", "depth", "n_layers", "seq_len", "width")


class HeavyTailWarning(UserWarning):
    """The gradient distribution is heavy-tailed: the variance needs many samples."""


class ZeroGradientWarning(UserWarning):
    """Selected partial derivatives are exactly zero in every sample (zero by construction)."""


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
        Standard error: Var·sqrt((κ−1)/S) for one partial, the bootstrap spread otherwise.
    kurtosis : float
        Sample kurtosis κ (3 for a normal distribution); mean over partials.
    mean : float
        Mean gradient (averaged over partials); ≈ 0 on a plateau.
    n_samples : int
    samples : Tensor[n_samples, k]
        The per-sample gradients used.
    indices : list[int]
        Parameter indices of the k columns of ``samples``.
    zero_by_construction : list[int]
        Indices whose gradient was exactly zero in every sample.
    seed : int
    model : dict
        ``model.describe()``.
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

    @property
    def rel_err(self) -> float:
        """Relative standard error SE/Var."""
        return self.se / self.variance if self.variance > 0 else math.inf

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the samples)."""
        return {
            "variance": self.variance, "ci": list(self.ci), "se": self.se,
            "kurtosis": self.kurtosis, "mean": self.mean, "n_samples": self.n_samples,
            "params": self.params, "n_partials": len(self.indices),
            "zero_by_construction": len(self.zero_by_construction), "seed": self.seed,
            "model": self.model,
        }


def _moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unbiased variance and kurtosis m4/m2² of each column."""
    centered = x - x.mean(axis=0)
    m2 = (centered**2).mean(axis=0)
    m4 = (centered**4).mean(axis=0)
    s = x.shape[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        kurt = np.where(m2 > 0, m4 / m2**2, np.nan)
    return m2 * s / (s - 1), kurt


def _bootstrap_variances(x: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Bootstrap replicates of the column-averaged unbiased variance.

    Resampling is expressed as multinomial counts so memory is O(n_boot·k), not
    O(n_boot·S·k).
    """
    s = x.shape[0]
    rng = np.random.default_rng(derive_seed(seed, "bootstrap"))
    counts = rng.multinomial(s, np.full(s, 1.0 / s), size=n_boot).astype(np.float64)
    centered = x - x.mean(axis=0)  # variance is shift invariant; centring keeps sums exact
    m1 = counts @ centered / s
    m2 = counts @ centered**2 / s
    return ((m2 - m1**2) * s / (s - 1)).mean(axis=1)


def summarize(
    samples: torch.Tensor,
    indices: Iterable[int],
    seed: int = 0,
    params: ParamSpec = "first",
    model: dict[str, Any] | None = None,
    n_boot: int = 2000,
    level: float = 0.95,
) -> VarianceEstimate:
    """Variance statistics of a ``Tensor[S, k]`` of per-sample gradients.

    Use this to recompute statistics from stored gradients; :func:`gradient_variance`
    draws the gradients and calls it.
    """
    x_all = samples.detach().to(torch.float64).cpu().numpy()
    s = x_all.shape[0]
    if s < 2:
        raise ValueError(f"n_samples={s} is too few; a variance needs at least 2 samples")
    indices = list(indices)
    zero = np.all(x_all == 0, axis=0)
    zero_idx = [i for i, z in zip(indices, zero) if z]
    if zero.all():
        warnings.warn(
            f"all {len(indices)} selected partials are exactly zero in all {s} samples "
            "(zero by construction); variance is 0", ZeroGradientWarning, stacklevel=3)
        x = x_all
    else:
        if zero_idx:
            warnings.warn(f"{len(zero_idx)} of {len(indices)} partials are zero by construction "
                          "and left out of the average", ZeroGradientWarning, stacklevel=3)
        x = x_all[:, ~zero]
    var_cols, kurt_cols = _moments(x)
    variance = float(var_cols.mean())
    kurtosis = float(np.nanmean(kurt_cols)) if np.isfinite(kurt_cols).any() else math.nan
    boot = _bootstrap_variances(x, n_boot, seed) if variance > 0 else np.zeros(1)
    alpha = (1 - level) / 2
    ci = (float(np.quantile(boot, alpha)), float(np.quantile(boot, 1 - alpha)))
    if x.shape[1] == 1 and np.isfinite(kurtosis):
        se = variance * math.sqrt(max(kurtosis - 1, 0.0) / s)
    else:
        se = float(boot.std(ddof=1)) if boot.size > 1 else 0.0
    if np.isfinite(kurtosis) and kurtosis > HEAVY_TAIL_KURTOSIS:
        warnings.warn(
            f"gradient distribution is heavy-tailed (kurtosis {kurtosis:.1f} ≫ 3): the variance "
            f"has relative error {se / variance:.0%} at S={s}; draw more samples or use rel_err=",
            HeavyTailWarning, stacklevel=3)
    return VarianceEstimate(
        variance=variance, ci=ci, se=se, kurtosis=kurtosis, mean=float(x.mean()),
        n_samples=s, samples=samples, indices=indices, zero_by_construction=zero_idx,
        seed=seed, params=params, model=model or {})


def gradient_variance(
    model: Model,
    n_samples: int = 200,
    seed: int = 0,
    params: ParamSpec = "first",
    rel_err: float | None = None,
    max_samples: int = 100_000,
    chunk_size: int | None = None,
    n_boot: int = 2000,
) -> VarianceEstimate:
    """Variance of ∂C/∂θ over the model's initialization distribution.

    Parameters
    ----------
    model : Model
    n_samples : int
        Samples drawn (the first batch, in adaptive mode). At least 2.
    seed : int
        Seed of the sample stream; the same seed gives the same numbers for any
        ``chunk_size`` and on any executor.
    params : {"first", "all"} or int or str
        Which partials: the first trainable parameter, all of them (variance averaged
        over parameters), an index, or a group name such as ``"layer:0"``.
    rel_err : float, optional
        Adaptive mode: keep drawing until SE/Var ≤ rel_err (or ``max_samples``).
    max_samples : int
        Cap for adaptive mode.
    chunk_size : int, optional
        Samples per gradient call (memory).
    n_boot : int
        Bootstrap replicates for the CI.

    Returns
    -------
    VarianceEstimate

    Examples
    --------
    >>> import qcgrad as qg
    >>> est = qg.gradient_variance(qg.classical.tower(depth=5, activation="sigmoid"), n_samples=50)
    >>> est.ci[0] <= est.variance <= est.ci[1]
    True
    """
    check_int(2, n_samples=n_samples)
    if rel_err is not None and not rel_err > 0:
        raise ValueError(f"rel_err={rel_err!r} is not allowed; it must be > 0")
    indices = resolve_params(model, params).tolist()
    grads = per_sample_gradients(model, n_samples, seed, params, chunk_size=chunk_size)
    describe = model.describe()
    with warnings.catch_warnings():
        if rel_err is not None:  # intermediate estimates are not the user's business
            warnings.simplefilter("ignore", HeavyTailWarning)
        est = summarize(grads, indices, seed, params, describe, n_boot)
        while rel_err is not None and est.rel_err > rel_err and len(grads) < max_samples:
            # SE/Var = sqrt((κ−1)/S): the S that meets the target, with 20 % headroom.
            kappa = est.kurtosis if np.isfinite(est.kurtosis) else 3.0
            target = int(1.2 * (kappa - 1) / rel_err**2) + 1
            extra = min(max(target - len(grads), len(grads) // 2, 1), max_samples - len(grads))
            more = per_sample_gradients(model, extra, seed, params, start=len(grads), chunk_size=chunk_size)
            grads = torch.cat([grads, more])
            est = summarize(grads, indices, seed, params, describe, n_boot)
    if rel_err is not None and est.rel_err > rel_err:
        warnings.warn(f"rel_err={rel_err} not reached at max_samples={max_samples} "
                      f"(reached {est.rel_err:.3f})", HeavyTailWarning, stacklevel=2)
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


def _wls_line(t: np.ndarray, y: np.ndarray, w: np.ndarray, level: float) -> tuple[np.ndarray, float, float, float]:
    """Weighted straight line y = a + b·t: (coef, half-width of the slope interval, chi2, r2).

    The weights are inverse variances, so the slope's variance is known and the interval is
    normal. When the points scatter more than their error bars allow (χ² beyond its 95 %
    quantile: model misfit or correlated noise), the covariance is scaled by χ²/dof and the
    interval uses Student's t.
    """
    design = np.column_stack([np.ones_like(t), t])
    normal = design.T @ (w[:, None] * design)
    coef = np.linalg.solve(normal, design.T @ (w * y))
    resid = y - design @ coef
    chi2 = float(np.sum(w * resid**2))
    dof = len(t) - 2
    slope_var = float(np.linalg.inv(normal)[1, 1])
    if dof > 0 and chi2 > sps.chi2.ppf(0.95, dof):
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

    Parameters
    ----------
    values, variances : sequences of equal length (≥ 3 points with Var > 0)
    rel_errs : sequence, optional
        Relative standard errors SE/Var; weights are their inverse squares. Equal weights
        when omitted.
    kind : {"auto", "exponential", "power"}
        "auto" picks the model with the smaller AIC.

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
    x = np.asarray(list(values), dtype=float)
    v = np.asarray(list(variances), dtype=float)
    r = np.ones_like(v) if rel_errs is None else np.asarray(list(rel_errs), dtype=float)
    if kind not in ("auto", "exponential", "power"):
        raise ValueError(f"kind={kind!r} is not allowed; use 'auto', 'exponential' or 'power'")
    keep = (v > 0) & np.isfinite(v) & np.isfinite(r) & (r > 0)
    if keep.sum() < 3:
        raise ValueError(f"a decay fit needs at least 3 points with variance > 0; got {int(keep.sum())}")
    x, y, w = x[keep], np.log(v[keep]), 1.0 / r[keep] ** 2
    fits = {"exponential": _wls_line(x, y, w, level)}
    if np.all(x > 0):
        fits["power"] = _wls_line(np.log(x), y, w, level)
    elif kind == "power":
        raise ValueError("a power-law fit needs every knob value > 0")
    aic = {name: f[2] + 4.0 for name, f in fits.items()}
    chosen = min(aic, key=aic.get) if kind == "auto" else kind
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
        """Weighted decay fit of variance against the knob (see :func:`fit_decay`)."""
        return fit_decay(self.values, self.variances, [e.rel_err for e in self.estimates],
                         kind=kind, knob=self.knob)

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
        return [{"knob": self.knob, "value": v, **e.to_dict()} for v, e in zip(self.values, self.estimates)]


def _infer_knob(values: list[Any], descriptions: list[dict[str, Any]]) -> str:
    """The description key that carries the scanned value at every point."""
    candidates = [k for k in descriptions[0]
                  if all(d.get(k) == v for d, v in zip(descriptions, values))]
    for name in SIZE_KNOBS:
        if name in candidates:
            return name
    return candidates[0] if candidates else "value"


def scan(
    build: Callable[[Any], Model],
    values: Iterable[Any],
    n_samples: int = 200,
    seed: int = 0,
    params: ParamSpec = "first",
    knob: str | None = None,
    **variance_kwargs: Any,
) -> Scan:
    """Gradient variance at each value of a size knob.

    Parameters
    ----------
    build : callable
        ``value -> Model``.
    values : iterable
        Knob values (e.g. ``range(2, 11)`` qubits).
    n_samples, params
        As in :func:`gradient_variance`.
    seed : int
        Study seed; each point's seed is derived from (seed, value).
    knob : str, optional
        Name of the knob; inferred from the models' descriptions when omitted.

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
    values = list(values)
    if not values:
        raise ValueError("values is empty; a scan needs at least one knob value")
    models = [build(v) for v in values]
    estimates = [gradient_variance(m, n_samples=n_samples, seed=derive_seed(seed, v), params=params,
                                   **variance_kwargs) for m, v in zip(models, values)]
    name = knob or _infer_knob(values, [m.describe() for m in models])
    return Scan(knob=name, values=values, estimates=estimates)
