"""Training any Model — deep net or circuit — with many initializations at once.

``train`` runs n_runs independent initializations as the rows of one batched tensor and
records loss and gradient-norm curves; optimizers, schedules and gradient transforms are
chosen by name and compose freely.
"""
from .blocks import parameter_blocks
from .metric import fisher_metric, fubini_study_metric, mixed_state_metric, qng_metric, row_jacobian, state_jacobian
from .optimizers import OPTIMIZER_DESCRIPTIONS, OPTIMIZERS, MetricDescent, make_optimizer, optimizer_options
from .schedules import SCHEDULES, make_schedule, schedule_options
from .training import TrainResult, train
from .transforms import LossScaler, clip_by_global_norm, clip_by_value

__all__ = [
    "train", "TrainResult", "OPTIMIZERS", "OPTIMIZER_DESCRIPTIONS", "SCHEDULES", "MetricDescent",
    "make_optimizer", "optimizer_options", "make_schedule", "schedule_options", "fisher_metric",
    "fubini_study_metric", "mixed_state_metric", "qng_metric", "parameter_blocks", "row_jacobian",
    "state_jacobian", "LossScaler", "clip_by_global_norm", "clip_by_value",
]
