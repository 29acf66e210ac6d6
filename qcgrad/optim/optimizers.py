"""Optimizers by name, each acting on the ``Tensor[n_runs, n_params]`` of batched runs.

The elementwise optimizers are torch.optim's own: because their update of entry (r, i)
depends only on the gradient history of entry (r, i), one optimizer over the batched
tensor *is* n_runs independent runs. Natural-gradient methods precondition each run's
gradient with that run's metric, solved row by row in one batched call.
"""
from __future__ import annotations

from typing import Callable

import torch

from ..model import Model
from .metric import fisher_metric, fubini_study_metric

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
                g = g + group["damping"] * torch.eye(len(idx), dtype=g.dtype)
                direction = torch.linalg.solve(g, p.grad[:, idx].to(g.dtype).unsqueeze(-1))[..., 0]
                p[:, idx] -= group["lr"] * direction.to(p.dtype)
        return None


def _elementwise(cls: type[torch.optim.Optimizer], **defaults) -> OptimizerFactory:
    """Factory for a torch.optim optimizer with some options fixed (e.g. momentum=0.9)."""
    def factory(params: torch.Tensor, model: Model, lr: float, **options) -> torch.optim.Optimizer:
        merged = {**defaults, **options}
        if merged.get("foreach"):  # torch allows one of the two multi-tensor paths
            merged.pop("fused", None)
        return cls([params], lr=lr, **merged)
    factory.__doc__ = f"torch.optim.{cls.__name__} with defaults {defaults or '{}'}."
    return factory


def natural_gradient(params: torch.Tensor, model: Model, lr: float, damping: float = 1e-3) -> MetricDescent:
    """Natural gradient: the Fisher of a classical model's predictive distribution."""
    return MetricDescent([params], lambda p: fisher_metric(model, p), model.trainable, lr=lr, damping=damping)


def qng(params: torch.Tensor, model: Model, lr: float, damping: float = 1e-3,
        approx: str = "block-diag") -> MetricDescent:
    """Quantum natural gradient: the Fubini–Study metric of a circuit's state."""
    fubini_study_metric(model, params[:1], approx)  # fail now, not at the first step, on bad input
    return MetricDescent([params], lambda p: fubini_study_metric(model, p, approx), model.trainable,
                         lr=lr, damping=damping)


#: Optimizer name -> factory ``(params, model, lr, **options) -> torch.optim.Optimizer``;
#: what `qcgrad list` shows.
#: The fused kernels update the whole batched tensor in one pass; torch's default per-tensor
#: path makes a temporary per arithmetic op, which on a [64, 10⁴] float64 tensor made
#: Adam's step (≈11 ms) cost as much as the net's forward and backward pass.
OPTIMIZERS: dict[str, OptimizerFactory] = {
    "sgd": _elementwise(torch.optim.SGD, fused=True),
    "momentum": _elementwise(torch.optim.SGD, momentum=0.9, fused=True),
    "nesterov": _elementwise(torch.optim.SGD, momentum=0.9, nesterov=True, fused=True),
    "adam": _elementwise(torch.optim.Adam, fused=True),
    "rmsprop": _elementwise(torch.optim.RMSprop),  # no fused kernel in torch
    "adagrad": _elementwise(torch.optim.Adagrad, fused=True),
    "natural_gradient": natural_gradient,
    "qng": qng,
}

#: Optimizers whose update of one entry depends on that entry alone.
ELEMENTWISE = ("sgd", "momentum", "nesterov", "adam", "rmsprop", "adagrad")


def make_optimizer(name: str, params: torch.Tensor, model: Model, lr: float, **options) -> torch.optim.Optimizer:
    """The optimizer called ``name`` over the batched parameter tensor ``params``."""
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer={name!r} is not allowed; use one of {sorted(OPTIMIZERS)}")
    if not lr > 0:
        raise ValueError(f"lr={lr!r} must be a positive float")
    return OPTIMIZERS[name](params, model, lr, **options)
