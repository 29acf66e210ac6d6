"""Linear stability of recurrent dynamics: spectral radius vs norm, transient growth, Gershgorin."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..validation import check_int
from .checks import check_square, check_tensor

#: Verdicts of :func:`gershgorin`.
VERDICTS = ("stable", "unstable", "inconclusive")


@dataclass
class TransientGrowth:
    """‖W^t‖₂ for t = 0..t_max, beside the two numbers that bound it.

    Attributes
    ----------
    norms : Tensor[t_max + 1]
    peak : float
        max_t ‖W^t‖₂.
    peak_t : int
    spectral_radius : float
        ρ(W): the asymptotic rate, ‖W^t‖^{1/t} → ρ.
    spectral_norm : float
        ‖W‖₂: the one-step bound, ‖W^t‖ ≤ ‖W‖^t.
    """

    norms: torch.Tensor
    peak: float
    peak_t: int
    spectral_radius: float
    spectral_norm: float


def transient_growth(weight: torch.Tensor, t_max: int = 100) -> TransientGrowth:
    """Norms of the powers of a recurrent weight.

    A non-normal W with ρ(W) < 1 still decays eventually, but ‖W^t‖ can first grow far above
    1: gradients through a few steps explode before they vanish.

    Examples
    --------
    >>> g = transient_growth(torch.tensor([[0.9, 5.0], [0.0, 0.9]], dtype=torch.float64), 60)
    >>> g.spectral_radius, g.peak > 10
    (0.9, True)
    """
    check_square("weight", weight)
    check_int(t_max=t_max)
    power = torch.eye(weight.shape[0], dtype=weight.dtype)
    norms = [torch.linalg.matrix_norm(power, ord=2)]
    for _ in range(t_max):
        power = weight @ power
        norms.append(torch.linalg.matrix_norm(power, ord=2))
    norms_t = torch.stack(norms)
    return TransientGrowth(norms_t, norms_t.max().item(), int(norms_t.argmax()),
                           torch.linalg.eigvals(weight).abs().max().item(),
                           torch.linalg.matrix_norm(weight, ord=2).item())


@dataclass
class Gershgorin:
    """Gershgorin discs of a Jacobian and what they say about the fixed point.

    Attributes
    ----------
    centers : Tensor[n]
        Diagonal entries.
    radii : Tensor[n]
        Off-diagonal absolute row sums.
    verdict : str
        "stable" when every disc lies inside the unit circle (:math:`|c| + r < 1`, so every
        eigenvalue does), "unstable" when some disc lies wholly outside it (:math:`|c| − r > 1`,
        an eigenvalue in an isolated disc is outside), else "inconclusive".
    spectral_radius : float
        The exact answer, for comparison.
    jacobian : Tensor[n, n]
    """

    centers: torch.Tensor
    radii: torch.Tensor
    verdict: str
    spectral_radius: float
    jacobian: torch.Tensor


def rnn_jacobian(weight: torch.Tensor, bias: torch.Tensor | None = None, activation: str = "tanh",
                 n_iter: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """Fixed point h* = σ(W h* + b) (by iteration from 0) and the Jacobian diag(σ'(W h* + b)) W.

    Returns
    -------
    fixed_point : Tensor[n]
    jacobian : Tensor[n, n]
    """
    acts = {"tanh": torch.tanh, "sigmoid": torch.sigmoid}
    if activation not in acts:
        raise ValueError(f"activation={activation!r} is not allowed; use one of {sorted(acts)}")
    check_square("weight", weight)
    if bias is not None and check_tensor("bias", bias).shape != weight.shape[:1]:
        raise ValueError(f"bias has shape {tuple(bias.shape)}; expected Tensor[{weight.shape[0]}] for this weight")
    check_int(n_iter=n_iter)
    b = torch.zeros(weight.shape[0], dtype=weight.dtype) if bias is None else bias
    h = torch.zeros_like(b)
    for _ in range(n_iter):
        h = acts[activation](weight @ h + b)
    z = (weight @ h + b).requires_grad_(True)
    (slope,) = torch.autograd.grad(acts[activation](z).sum(), z)
    return h, slope[:, None] * weight


def gershgorin(jacobian: torch.Tensor) -> Gershgorin:
    """Gershgorin discs of a discrete-time Jacobian and the stability verdict.

    Examples
    --------
    >>> gershgorin(torch.tensor([[0.5, 0.1], [0.2, -0.3]])).verdict
    'stable'
    """
    check_square("jacobian", jacobian)
    centers = torch.diagonal(jacobian)
    radii = jacobian.abs().sum(1) - centers.abs()
    if bool((centers.abs() + radii < 1).all()):
        verdict = "stable"
    elif bool((centers.abs() - radii > 1).any()):
        verdict = "unstable"
    else:
        verdict = "inconclusive"
    return Gershgorin(centers, radii, verdict, torch.linalg.eigvals(jacobian).abs().max().item(), jacobian)
