"""Spectrum of a circuit's quantum metric: how many directions the state can move in."""
from __future__ import annotations

import torch

from ..model import Model
from ..optim.metric import qng_metric
from .checks import check_params, check_tensor


def metric_spectrum(model: Model, params: torch.Tensor, approx: str = "full") -> torch.Tensor:
    """Eigenvalues (decreasing) of the metric QNG uses, per run: ``Tensor[n, P]``.

    The Fubini–Study metric of a noiseless circuit, ¼ of the quantum Fisher information of the
    density matrix for a noisy one (:func:`qcgrad.optim.qng_metric`). Near-zero eigenvalues are
    redundant parameter directions; on a barren plateau the metric stays O(1) while the gradient
    vanishes, which is why QNG rescales the step.
    """
    g = check_tensor("metric", qng_metric(model, check_params(model, params), approx))
    return torch.linalg.eigvalsh(g).flip(-1)
