"""Adam with one step count per run, so that a run that skips a step keeps its own bias correction."""
from __future__ import annotations

import torch
from torch.optim.adam import adam as _functional_adam


class Adam(torch.optim.Optimizer):
    """Adam (Kingma & Ba 2015) over a ``Tensor[n_runs, ...]`` whose rows are independent runs.

    m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − lr·m̂/(√v̂ + ε) with m̂ = m/(1−β₁ᵗ),
    v̂ = v/(1−β₂ᵗ), as ``torch.optim.Adam``, except that the step count t is kept per row:
    a run whose step was skipped (an overflowing gradient under dynamic loss scaling) keeps
    its t, and its next real update is bias-corrected for its own history. The first update
    of every run is −lr·g/(|g| + ε) entrywise.

    The state (``step``: one float32 count per row; ``exp_avg``, ``exp_avg_sq``) exists from
    construction on, so a caller can save and restore a row of it around a skipped step. The
    update is torch's fused Adam kernel applied to the rows as separate tensors (views), which
    is how it keeps one count per row.

    Parameters
    ----------
    params : list of one Tensor[n_runs, ...]
    lr : float
    betas : tuple of two floats in [0, 1)
    eps : float
        ε ≥ 0 added to √v̂.
    weight_decay : float
        L2 penalty added to the gradient (torch.optim.Adam's, not AdamW's).

    Examples
    --------
    >>> p = torch.zeros(2, 1, dtype=torch.float64, requires_grad=True)
    >>> opt = Adam([p], lr=0.1)
    >>> p.grad = torch.tensor([[3.0], [-0.5]], dtype=torch.float64)
    >>> opt.step(); [round(x, 6) for x in p.detach().flatten().tolist()]  # −lr·g/(|g| + ε)
    [-0.1, 0.1]
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"betas={betas!r} must be two floats in [0, 1)")
        if not eps >= 0:
            raise ValueError(f"eps={eps!r} must be >= 0")
        if not weight_decay >= 0:
            raise ValueError(f"weight_decay={weight_decay!r} must be >= 0")
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay})
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = {"step": torch.zeros(p.shape[0], dtype=torch.float32, device=p.device),
                                 "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                                 "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format)}

    @torch.no_grad()
    def step(self, closure=None):  # noqa: D102 - torch.optim.Optimizer.step
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                # torch's fused kernel keeps one step count per tensor: given the rows as separate
                # tensors (views), each run gets its own count at the fused kernel's speed
                _functional_adam(
                    list(p.unbind(0)), list(p.grad.unbind(0)), list(state["exp_avg"].unbind(0)),
                    list(state["exp_avg_sq"].unbind(0)), [], list(state["step"].unbind(0)), fused=True,
                    amsgrad=False, beta1=beta1, beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"],
                    eps=group["eps"], maximize=False)
        return None
