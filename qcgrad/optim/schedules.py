"""Learning-rate schedules by name, as torch.optim.lr_scheduler objects."""
from __future__ import annotations

from typing import Callable

import torch

#: Schedule name -> factory ``(optimizer, steps, **options) -> LRScheduler``.
SCHEDULES: dict[str, Callable[..., torch.optim.lr_scheduler.LRScheduler]] = {
    "constant": lambda opt, steps, **kw: torch.optim.lr_scheduler.ConstantLR(opt, factor=1.0, **kw),
    "step": lambda opt, steps, step_size=None, gamma=0.1, **kw: torch.optim.lr_scheduler.StepLR(
        opt, step_size=step_size or max(1, steps // 3), gamma=gamma, **kw),
    "exponential": lambda opt, steps, gamma=0.99, **kw: torch.optim.lr_scheduler.ExponentialLR(opt, gamma=gamma, **kw),
    "cosine": lambda opt, steps, **kw: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, **kw),
    "warmup": lambda opt, steps, warmup=None, **kw: torch.optim.lr_scheduler.LinearLR(
        opt, start_factor=1e-2, total_iters=warmup or max(1, steps // 10), **kw),
}


def make_schedule(name: str | None, optimizer: torch.optim.Optimizer, steps: int,
                  **options) -> torch.optim.lr_scheduler.LRScheduler:
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
    if name not in SCHEDULES:
        raise ValueError(f"schedule={name!r} is not allowed; use None or one of {sorted(SCHEDULES)}")
    return SCHEDULES[name](optimizer, steps, **options)
