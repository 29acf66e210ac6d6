"""Learning-rate schedules by name, as torch.optim.lr_scheduler objects.

With base rate lr₀, a run of T steps and t the step index (the rate used by step t):

- ``constant``: lr₀.
- ``step``: lr₀·γ^⌊t/s⌋ (``step_size`` s, default max(1, T // 3); ``gamma`` γ, default 0.1).
- ``exponential``: lr₀·γᵗ (``gamma``, default 0.99).
- ``cosine``: η + (lr₀ − η)(1 + cos(πt/T))/2, from lr₀ at t = 0 to η at t = T (``eta_min`` η, default 0).
- ``warmup``: lr₀·(f + (1 − f)·min(t, W)/W), linear from f·lr₀ to lr₀ over the first W steps
  (``warmup`` W, default max(1, T // 10); ``start_factor`` f, default 0.01), then lr₀.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable

import torch

Scheduler = torch.optim.lr_scheduler.LRScheduler


def _constant(opt: torch.optim.Optimizer, steps: int) -> Scheduler:
    return torch.optim.lr_scheduler.ConstantLR(opt, factor=1.0, total_iters=0)


def _step(opt: torch.optim.Optimizer, steps: int, step_size: int | None = None, gamma: float = 0.1) -> Scheduler:
    return torch.optim.lr_scheduler.StepLR(opt, step_size=step_size or max(1, steps // 3), gamma=gamma)


def _exponential(opt: torch.optim.Optimizer, steps: int, gamma: float = 0.99) -> Scheduler:
    return torch.optim.lr_scheduler.ExponentialLR(opt, gamma=gamma)


def _cosine(opt: torch.optim.Optimizer, steps: int, eta_min: float = 0.0) -> Scheduler:
    return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=eta_min)


def _warmup(opt: torch.optim.Optimizer, steps: int, warmup: int | None = None,
            start_factor: float = 1e-2) -> Scheduler:
    return torch.optim.lr_scheduler.LinearLR(opt, start_factor=start_factor, total_iters=warmup or max(1, steps // 10))


#: Schedule name -> factory ``(optimizer, steps, **options) -> LRScheduler``.
SCHEDULES: dict[str, Callable[..., Scheduler]] = {
    "constant": _constant,
    "step": _step,
    "exponential": _exponential,
    "cosine": _cosine,
    "warmup": _warmup,
}


def schedule_options(name: str) -> tuple[str, ...]:
    """Keyword options the schedule called ``name`` accepts (``train(schedule_options=...)``).

    Examples
    --------
    >>> schedule_options("warmup")
    ('warmup', 'start_factor')
    """
    if name not in SCHEDULES:
        raise ValueError(f"schedule={name!r} is not allowed; use None or one of {sorted(SCHEDULES)}")
    return tuple(inspect.signature(SCHEDULES[name]).parameters)[2:]


def make_schedule(name: str | None, optimizer: torch.optim.Optimizer, steps: int, **options) -> Scheduler:
    """The schedule called ``name`` (None: constant) for a run of ``steps`` steps.

    Examples
    --------
    >>> p = torch.zeros(2, 3, requires_grad=True)
    >>> opt = torch.optim.SGD([p], lr=1.0)
    >>> sched = make_schedule("cosine", opt, steps=10)
    >>> type(sched).__name__
    'CosineAnnealingLR'
    """
    name = name or "constant"
    unknown = sorted(set(options) - set(schedule_options(name)))
    if unknown:
        raise ValueError(f"schedule_options {unknown} are not options of schedule={name!r}; "
                         f"it accepts {list(schedule_options(name))}")
    return SCHEDULES[name](optimizer, steps, **options)
