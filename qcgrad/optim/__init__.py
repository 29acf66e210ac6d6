"""Training any Model — deep net or circuit — with many initializations at once.

``train`` runs n_runs independent initializations as the rows of one batched tensor and
records loss and gradient-norm curves; optimizers, schedules and gradient transforms are
chosen by name and compose freely.
"""
from .metric import fisher_metric, fubini_study_metric, row_jacobian
from .optimizers import OPTIMIZERS, MetricDescent, make_optimizer
from .schedules import SCHEDULES, make_schedule
from .train import TrainResult, train
from .transforms import LossScaler, clip_by_global_norm, clip_by_value

__all__ = [
    "train", "TrainResult", "OPTIMIZERS", "SCHEDULES", "MetricDescent", "make_optimizer",
    "make_schedule", "fisher_metric", "fubini_study_metric", "row_jacobian", "LossScaler",
    "clip_by_global_norm", "clip_by_value",
]
