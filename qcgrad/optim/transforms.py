"""Gradient transforms that compose with any optimizer: clipping and loss scaling.

Every transform acts row-wise on a ``Tensor[n_runs, n_params]`` of gradients, so the
``n_runs`` batched training runs stay independent: one run's large gradient never
clips or rescales another run.
"""
from __future__ import annotations

import torch

from ..validation import check_int

#: Loss-scaling modes accepted by :func:`qcgrad.train` besides a fixed float scale.
LOSS_SCALE_MODES = ("dynamic",)


def clip_by_global_norm(grad: torch.Tensor, max_norm: float) -> torch.Tensor:
    """Rescale each row whose L2 norm exceeds ``max_norm`` down to that norm.

    The direction of every row is kept exactly; only its length changes.

    Parameters
    ----------
    grad : Tensor[n_runs, n_params]
    max_norm : float
        Positive bound on each row's norm.

    Returns
    -------
    Tensor[n_runs, n_params]

    Examples
    --------
    >>> clip_by_global_norm(torch.tensor([[3.0, 4.0], [0.3, 0.4]]), 1.0)
    tensor([[0.6000, 0.8000],
            [0.3000, 0.4000]])
    """
    if not max_norm > 0:
        raise ValueError(f"clip_norm={max_norm!r} must be a positive float")
    norm = torch.linalg.vector_norm(grad, dim=1, keepdim=True)
    return grad * torch.clamp(max_norm / norm, max=1.0).nan_to_num(nan=1.0)


def clip_by_value(grad: torch.Tensor, max_abs: float) -> torch.Tensor:
    """Clamp every gradient entry to ``[-max_abs, max_abs]``.

    Examples
    --------
    >>> clip_by_value(torch.tensor([[-5.0, 0.5]]), 1.0)
    tensor([[-1.0000,  0.5000]])
    """
    if not max_abs > 0:
        raise ValueError(f"clip_value={max_abs!r} must be a positive float")
    return grad.clamp(-max_abs, max_abs)


class LossScaler:
    """Per-run loss scale for low-precision (float16/bfloat16) gradients.

    The loss is multiplied by the scale before backpropagation so that small gradients do
    not flush to zero in the low-precision format, and the gradient is divided by it
    afterwards in the master precision. A static scaler keeps its scale; a dynamic one
    halves the scale of a run whose gradient overflowed (that run's step is skipped) and
    doubles it after ``growth_interval`` finite steps in a row, as mixed-precision
    training does.

    Parameters
    ----------
    n_runs : int
    init_scale : float
        Starting scale (the fixed scale when ``dynamic`` is False). The default 2^15 is
        the largest power of two float16 can hold (max 65504), so the scaled loss's seed
        gradient is finite.
    dynamic : bool
    growth_interval : int
        Finite steps in a row before a dynamic scale doubles.

    Examples
    --------
    >>> s = LossScaler(2, init_scale=8.0, dynamic=True)
    >>> s.update(torch.tensor([True, False])); s.scale.tolist()
    [8.0, 4.0]
    """

    def __init__(self, n_runs: int, init_scale: float = 2.0**15, dynamic: bool = True,
                 growth_interval: int = 200) -> None:
        if not init_scale > 0:
            raise ValueError(f"loss_scale={init_scale!r} must be a positive float or 'dynamic'")
        check_int(growth_interval=growth_interval)
        self.scale = torch.full((n_runs,), float(init_scale), dtype=torch.float64)
        self.dynamic = dynamic
        self.growth_interval = growth_interval
        self._good_steps = torch.zeros(n_runs, dtype=torch.long)

    def scale_loss(self, loss: torch.Tensor) -> torch.Tensor:
        """The per-run losses multiplied by their scales, summed for one backward pass."""
        return (loss * self.scale.to(loss.dtype)).sum()

    def unscale(self, grad: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """Gradient of the unscaled loss, converted to ``dtype`` before dividing."""
        return grad.to(dtype) / self.scale.to(dtype)[:, None]

    def update(self, finite: torch.Tensor) -> None:
        """Adjust the scales after a step; ``finite[r]`` says whether run r's gradient was finite."""
        if not self.dynamic:
            return
        self._good_steps = torch.where(finite, self._good_steps + 1, 0)
        grow = self._good_steps >= self.growth_interval
        self.scale = torch.where(finite, self.scale, self.scale / 2)
        self.scale = torch.where(grow, self.scale * 2, self.scale)
        self._good_steps[grow] = 0


def make_loss_scaler(loss_scale: float | str | None, n_runs: int) -> LossScaler | None:
    """The scaler for ``train(loss_scale=...)``: None, a fixed float, or ``"dynamic"``."""
    if loss_scale is None:
        return None
    if isinstance(loss_scale, str):
        if loss_scale not in LOSS_SCALE_MODES:
            raise ValueError(f"loss_scale={loss_scale!r} is not allowed; use None, a positive float or 'dynamic'")
        return LossScaler(n_runs, dynamic=True)
    if isinstance(loss_scale, bool) or not isinstance(loss_scale, (int, float)):
        raise TypeError(f"loss_scale={loss_scale!r} is not allowed; use None, a positive float or 'dynamic'")
    return LossScaler(n_runs, init_scale=float(loss_scale), dynamic=False)
