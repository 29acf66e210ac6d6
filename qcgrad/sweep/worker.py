"""Measure one point: build its model, draw its gradients, summarize; never raise.

This is the function executors ship to workers. A point that fails (out of memory,
non-finite gradients, a builder error) comes back as a failed result carrying its error,
so the sweep goes on. With ``method="paths"`` (or ``"auto"`` choosing paths) the variance
comes from Pauli-path propagation and no gradients are stored; with ``theory`` the result
carries the prediction of :func:`qcgrad.theory.predict`, or the reason it does not apply.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from ..gradients import per_sample_gradients, resolve_params
from ..model import Model
from ..stats import VarianceEstimate, choose_method, gradient_variance, summarize
from .grid import Point


@dataclass
class PointResult:
    """What a worker sends back for one point (``status`` "done" or "failed")."""

    point_id: str
    status: str
    seconds: float
    error: str | None = None
    variance: float | None = None
    ci: tuple[float, float] | None = None
    se: float | None = None
    kurtosis: float | None = None
    mean: float | None = None
    indices: list[int] = field(default_factory=list)
    grads: np.ndarray | None = field(default=None, repr=False)
    model: dict[str, Any] = field(default_factory=dict)
    method: str | None = None
    prediction: dict[str, Any] | None = None
    warnings: list[tuple[type[Warning], str]] = field(default_factory=list)


def failed(point: Point, error: BaseException, seconds: float = 0.0) -> PointResult:
    """The result of a point whose measurement raised ``error``."""
    return PointResult(point.point_id, "failed", seconds, error=f"{type(error).__name__}: {error}")


def gradients(point: Point, model: Model, progress: bool) -> torch.Tensor:
    """The point's per-sample gradients, chunk by chunk (a progress bar over samples if asked).

    The sample stream is split-invariant and the chunks are the study's ``chunk_size`` on
    every executor, so the numbers do not depend on where the point runs.
    """
    step = point.chunk_size or point.n_samples
    starts = range(0, point.n_samples, step)
    bar = tqdm(total=point.n_samples, desc="samples", unit="sample", leave=False,
               disable=not progress or len(starts) < 2)
    chunks = []
    with bar:
        for lo in starts:
            n = min(step, point.n_samples - lo)
            chunks.append(per_sample_gradients(model, n, point.seed, point.spec, start=lo))
            bar.update(n)
    return torch.cat(chunks)


def estimate(point: Point, model: Model, progress: bool) -> VarianceEstimate:
    """The point's variance estimate: the numbers :func:`qcgrad.gradient_variance` gives.

    Raises FloatingPointError when a sampled gradient is not finite.
    """
    if choose_method(model, point.method) == "paths":
        return gradient_variance(model, point.n_samples, point.seed, point.spec, method="paths",
                                 n_paths=point.n_paths)
    indices = resolve_params(model, point.spec)
    grads = gradients(point, model, progress)
    finite = torch.isfinite(grads)
    if not finite.all():
        raise FloatingPointError(f"{int((~finite).sum())} of {grads.numel()} gradients are not "
                                 "finite (NaN or inf)")
    return summarize(grads, indices.tolist(), point.seed, point.params, model.describe(),
                     structural_zeros=model.structural_zeros(), tolerance=model.gradient_tolerance())


def prediction(model: Model, point: Point) -> dict[str, Any]:
    """``qcgrad.theory.predict(model, params).to_dict()``, or ``{"refused": reason}``."""
    from ..theory import predict  # only studies that ask for theory load it

    try:
        return predict(model, params=point.spec).to_dict()
    except ValueError as err:
        return {"refused": str(err)}


def compute_point(point: Point, progress: bool = False) -> PointResult:
    """Measure the gradient variance of one point.

    Parameters
    ----------
    point : Point
    progress : bool
        Show a progress bar over samples (serial runs in a terminal).

    Returns
    -------
    PointResult
        ``status="failed"`` with the error text when anything raised or a gradient is not
        finite; the numbers of :func:`qcgrad.gradient_variance` otherwise, with the
        warnings raised while measuring (each once) for the caller to show.
    """
    start = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:  # sent back to be shown once, with the point
            warnings.simplefilter("always")
            model = point.build()
            est = estimate(point, model, progress)
            theory = prediction(model, point) if point.theory else None
    except Exception as err:  # a point's failure is data for the store, not the end of the sweep
        return failed(point, err, time.perf_counter() - start)
    sampled = est.method == "sample"
    return PointResult(point.point_id, "done", time.perf_counter() - start, variance=est.variance,
                       ci=est.ci, se=est.se, kurtosis=est.kurtosis, mean=est.mean, indices=est.indices,
                       grads=est.samples.numpy() if sampled else None, model=est.model, method=est.method,
                       prediction=theory,
                       warnings=list(dict.fromkeys((w.category, str(w.message)) for w in caught)))
