"""Spectrum of a circuit's Fubini–Study metric: how many directions the state can move in."""
from __future__ import annotations

import torch

from ..model import Model
from ..optim.metric import fubini_study_metric


def metric_spectrum(model: Model, params: torch.Tensor, approx: str = "full") -> torch.Tensor:
    """Eigenvalues (decreasing) of the Fubini–Study metric per run: ``Tensor[n, P]``.

    Near-zero eigenvalues are redundant parameter directions; on a barren plateau the
    metric stays O(1) while the gradient vanishes, which is why QNG rescales the step.
    """
    g = fubini_study_metric(model, params, approx)
    return torch.linalg.eigvalsh(g).flip(-1)
