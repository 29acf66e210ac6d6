"""Optimizers by name, each acting on the ``Tensor[n_runs, n_params]`` of batched runs.

The elementwise optimizers are torch.optim's own (Adam: :class:`qcgrad.optim.adam.Adam`,
which keeps its step count per run): because their update of entry (r, i) depends only on
the gradient history of entry (r, i), one optimizer over the batched tensor *is* n_runs
independent runs. Natural-gradient methods precondition each run's gradient with that
run's metric, solved row by row in one batched call.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch

from ..model import Model
from .adam import Adam
from .metric import fisher_metric, qng_metric

#: Builds an optimizer over the batched parameter tensor of ``model``.
OptimizerFactory = Callable[..., torch.optim.Optimizer]


class MetricDescent(torch.optim.Optimizer):
    """Preconditioned descent θ ← θ − lr·(G + λI)⁻¹g with a per-run metric G(θ).

    Entries outside ``mask`` (frozen structure parameters) are left out of the solve and
    never move.

    Parameters
    ----------
    params : list of one Tensor[n_runs, n_params]
    metric : callable
        ``Tensor[n_runs, n_params] -> Tensor[n_runs, n_params, n_params]``.
    mask : Tensor[n_params] of bool
        Trainable entries.
    lr : float
    damping : float
        λ ≥ 0, added to the metric's diagonal so that a singular metric stays invertible.
    """

    def __init__(self, params, metric: Callable[[torch.Tensor], torch.Tensor], mask: torch.Tensor,
                 lr: float = 0.1, damping: float = 1e-3) -> None:
        if damping < 0:
            raise ValueError(f"damping={damping!r} must be >= 0")
        super().__init__(params, {"lr": lr, "damping": damping})
        self.metric = metric
        self.mask = mask

    @torch.no_grad()
    def step(self, closure=None):  # noqa: D102 - torch.optim.Optimizer.step
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                idx = torch.nonzero(self.mask)[:, 0]
                g = self.metric(p.detach())[:, idx][:, :, idx]
                g = g + group["damping"] * torch.eye(len(idx), dtype=g.dtype, device=g.device)
                direction = torch.linalg.solve(g, p.grad[:, idx].to(g.dtype).unsqueeze(-1))[..., 0]
                p[:, idx] -= group["lr"] * direction.to(p.dtype)
        return None


def _elementwise(cls: Any, **defaults) -> OptimizerFactory:
    """Factory for a torch.optim optimizer with some options fixed (e.g. momentum=0.9)."""
    def factory(params: torch.Tensor, model: Model, lr: float, **options) -> torch.optim.Optimizer:
        merged = {**defaults, **options}
        if merged.get("foreach"):  # torch allows one of the two multi-tensor paths
            merged.pop("fused", None)
        return cls([params], lr=lr, **merged)
    factory.__doc__ = f"{cls.__module__}.{cls.__qualname__} with defaults {defaults or '{}'}."
    factory.options = _keywords(cls, skip=("self", "params", "lr"))  # type: ignore[attr-defined]
    return factory


def _keywords(fn: Callable, skip: tuple[str, ...]) -> tuple[str, ...]:
    """Names of the keyword arguments ``fn`` accepts, less ``skip``."""
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return tuple(k for k, v in inspect.signature(fn).parameters.items() if v.kind in kinds and k not in skip)


def natural_gradient(params: torch.Tensor, model: Model, lr: float, damping: float = 1e-3) -> MetricDescent:
    """Natural gradient: the Fisher of a classical model's predictive distribution."""
    return MetricDescent([params], lambda p: fisher_metric(model, p), model.trainable, lr=lr, damping=damping)


def qng(params: torch.Tensor, model: Model, lr: float, damping: float = 1e-3,
        approx: str = "block-diag") -> MetricDescent:
    """Quantum natural gradient (Stokes et al. 2020) with the circuit's metric.

    The metric is block-diagonal by default (``approx="block-diag"``: PennyLane's
    parametrized-layer blocks, as ``qml.QNGOptimizer``); ``approx="full"`` uses the whole
    Fubini–Study metric and ``"diag"`` its diagonal. The choice changes the trajectory. Noisy
    circuits use ¼ of the quantum Fisher information of their density matrix
    (:func:`qcgrad.optim.metric.qng_metric`).
    """
    qng_metric(model, params[:1], approx)  # fail now, not at the first step, on bad input
    return MetricDescent([params], lambda p: qng_metric(model, p, approx), model.trainable,
                         lr=lr, damping=damping)


#: Optimizer name -> factory ``(params, model, lr, **options) -> torch.optim.Optimizer``;
#: what `qcgrad list` shows.
#: The fused kernels update the whole batched tensor in one pass; torch's default per-tensor
#: path makes a temporary per arithmetic op, which on a [64, 10⁴] float64 tensor made
#: Adam's step (≈11 ms) cost as much as the net's forward and backward pass. qcgrad's Adam
#: (per-run step counts) runs the same fused kernel on the rows: ≈1.4× torch's fused step
#: there (4.9 vs 3.5 ms, one thread, shared host).
OPTIMIZERS: dict[str, OptimizerFactory] = {
    "sgd": _elementwise(torch.optim.SGD, fused=True),
    "momentum": _elementwise(torch.optim.SGD, momentum=0.9, fused=True),
    "nesterov": _elementwise(torch.optim.SGD, momentum=0.9, nesterov=True, fused=True),
    "adam": _elementwise(Adam),  # per-run step counts (a skipped step keeps its bias correction)
    "rmsprop": _elementwise(torch.optim.RMSprop),  # no fused kernel in torch
    "adagrad": _elementwise(torch.optim.Adagrad, fused=True),
    "natural_gradient": natural_gradient,
    "qng": qng,
}

#: One line per optimizer: what it does and its defaults (for ``qcgrad list`` and the docs).
OPTIMIZER_DESCRIPTIONS: dict[str, str] = {
    "sgd": "plain gradient descent θ ← θ − lr·g",
    "momentum": "heavy-ball SGD, momentum 0.9",
    "nesterov": "Nesterov SGD, momentum 0.9",
    "adam": "Adam, betas (0.9, 0.999), eps 1e-8; bias correction counted per run",
    "rmsprop": "RMSprop, alpha 0.99, eps 1e-8",
    "adagrad": "Adagrad, eps 1e-10",
    "natural_gradient": "θ ← θ − lr·(F + λI)⁻¹g, F the Fisher of a classical model's outputs (damping λ 1e-3)",
    "qng": "quantum natural gradient, BLOCK-DIAGONAL Fubini–Study metric by default (PennyLane's "
           "parametrized layers, as qml.QNGOptimizer); approx='full' | 'diag' to change it; noisy "
           "circuits use ¼ of the quantum Fisher information of ρ (damping λ 1e-3)",
}

#: Optimizers whose update of one entry depends on that entry alone.
ELEMENTWISE = ("sgd", "momentum", "nesterov", "adam", "rmsprop", "adagrad")


def optimizer_options(name: str) -> tuple[str, ...]:
    """Keyword options the optimizer called ``name`` accepts (``train(optimizer_options=...)``).

    Examples
    --------
    >>> optimizer_options("qng")
    ('damping', 'approx')
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer={name!r} is not allowed; use one of {sorted(OPTIMIZERS)}")
    factory = OPTIMIZERS[name]
    return getattr(factory, "options", None) or _keywords(factory, skip=("params", "model", "lr"))


def make_optimizer(name: str, params: torch.Tensor, model: Model, lr: float, **options) -> torch.optim.Optimizer:
    """The optimizer called ``name`` over the batched parameter tensor ``params``."""
    allowed = optimizer_options(name)
    if not lr > 0:
        raise ValueError(f"lr={lr!r} must be a positive float")
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(f"optimizer_options {unknown} are not options of optimizer={name!r}; "
                         f"it accepts {list(allowed)}")
    return OPTIMIZERS[name](params, model, lr, **options)
