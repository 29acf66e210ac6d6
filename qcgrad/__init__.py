"""qcgrad: gradient statistics of deep networks and parameterized quantum circuits.

One interface (:class:`Model`) for a 100-layer ResNet and a 20-qubit circuit; one
estimator (:func:`gradient_variance`), one scan (:func:`scan`) and one decay fit
(:class:`DecayFit`) for vanishing gradients and barren plateaus alike.
"""
from . import classical, diagnostics, optim, quantum, sweep, theory
from ._version import __version__
from .claims import Claim, Study, claim_base, claim_value, claim_variance, verdict_table
from .gradients import per_sample_gradients, resolve_params
from .hybrids import HybridModel, hybrid
from .model import Model
from .optim import train
from .profile import LayerProfile, layer_profile, zero_fraction
from .seeding import derive_seed
from .stats import DecayFit, Scan, VarianceEstimate, fit_decay, gradient_variance, scan, summarize

__all__ = [
    "Model", "classical", "quantum", "optim", "diagnostics", "sweep", "theory", "train",
    "layer_profile", "LayerProfile", "zero_fraction", "gradient_variance", "scan", "fit_decay", "summarize",
    "DecayFit", "Scan", "VarianceEstimate", "per_sample_gradients", "resolve_params",
    "derive_seed", "__version__", "hybrid", "HybridModel",
    "Claim", "Study", "claim_base", "claim_value", "claim_variance", "verdict_table",
]
