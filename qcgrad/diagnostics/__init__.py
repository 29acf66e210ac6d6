"""Diagnostics over Models: why gradients vanish or explode, and what the geometry looks like.

Jacobian spectra and dynamical isometry, per-layer Jacobian norms, Lyapunov exponents,
transient growth and Gershgorin stability of recurrent weights, dead units, float32
underflow, training-vs-inference memory, and the Fubini–Study metric spectrum of circuits.
"""
from .dead import dead_fraction
from .jacobian import JacobianSpectrum, jacobian_spectrum, layer_jacobians, layer_norms
from .lyapunov import lyapunov_spectrum
from .memory import checkpointed_cost, memory_profile, peak_bytes
from .metric import metric_spectrum
from .recurrent import Gershgorin, TransientGrowth, gershgorin, rnn_jacobian, transient_growth
from .underflow import UnderflowReport, log_product_norm, underflow_report

__all__ = [
    "jacobian_spectrum", "layer_jacobians", "layer_norms", "JacobianSpectrum", "lyapunov_spectrum",
    "transient_growth", "TransientGrowth", "gershgorin", "Gershgorin", "rnn_jacobian", "dead_fraction",
    "underflow_report", "UnderflowReport", "log_product_norm", "memory_profile", "peak_bytes", "checkpointed_cost",
    "metric_spectrum",
]
