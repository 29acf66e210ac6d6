"""Layerwise training (Skolik et al. 2021): train the first layers, then grow the circuit.

Stage s trains layers ``[max(0, k − window), k)`` with ``k = min(n_layers, (s + 1) · layers_per_stage)``;
every other layer is frozen, and layers not yet reached are held at zero angles. Each stage
starts from the previous stage's final parameters, so the loss curve is continuous. Any
optimizer of :func:`qcgrad.train` works: a stage is one ``train`` call on the same model
with the inactive layers marked frozen.

With ``init="identity_block"`` and an even ``layers_per_stage`` the layers not yet reached
come in (layer, inverse) pairs at zero angles, which are exactly the identity: the circuit
trained in a stage is exactly the first k layers. For other ansätze a layer at zero angles
still applies its entangling gates.

It does not apply to models whose zeroed layers cut the gradient of the layers before them,
such as deep nets (a layer with zero weights passes no signal back): if every gradient of
the first stage's layers is exactly zero at every start, ``layerwise_train`` refuses the
model instead of training nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ..model import Model
from ..optim import TrainResult, train
from ..seeding import sample_block
from ..validation import check_int


@dataclass
class LayerwiseResult:
    """Curves of a layerwise training.

    Attributes
    ----------
    stages : list[TrainResult]
        One :class:`qcgrad.optim.TrainResult` per stage.
    trained_layers : list[tuple[int, int]]
        Per stage, the half-open range of layers trained.
    loss : Tensor[total_steps + 1, n_runs]
        The stages' loss curves joined (each stage starts where the last one ended).
    params : Tensor[n_runs, n_params]
        Final parameters.
    """

    stages: list[TrainResult]
    trained_layers: list[tuple[int, int]]
    loss: torch.Tensor
    params: torch.Tensor


class _PartlyFrozen(Model):
    """``model`` with extra groups frozen; everything else is delegated to it."""

    def __init__(self, model: Model, frozen: tuple[str, ...]) -> None:
        self.model, self.frozen = model, frozen
        self.n_params, self.param_groups = model.n_params, model.param_groups

    def sample_params(self, generator: torch.Generator, n: int) -> torch.Tensor:
        return self.model.sample_params(generator, n)

    def cost(self, params: torch.Tensor) -> torch.Tensor:
        return self.model.cost(params)

    def grad(self, params: torch.Tensor, indices: torch.Tensor | None = None) -> torch.Tensor:
        g = self.model.grad(params) * self.trainable.to(params.device)
        return g if indices is None else g[:, indices]

    def describe(self) -> dict[str, Any]:
        return self.model.describe()

    def __getattr__(self, name: str) -> Any:  # state(), n_qubits, ... for metric-based optimizers
        return getattr(self.__dict__["model"], name)


def _layer_count(model: Model) -> int:
    n = 0
    while f"layer:{n}" in model.param_groups:
        n += 1
    if n == 0:
        raise ValueError(f"layerwise training needs parameter groups 'layer:0', 'layer:1', ...; model has "
                         f"{sorted(model.param_groups)}")
    return n


def _check_first_stage_learns(model: Model, params: torch.Tensor, reached: int) -> None:
    """Refuse, naming the model, when the layers trained first get exactly zero gradient."""
    first = torch.cat([torch.arange(model.n_params)[model.param_groups[f"layer:{k}"]] for k in range(reached)])
    first = first[model.trainable[first]]
    if first.numel() and not torch.any(model.grad(params, first) != 0):
        name = model.describe().get("architecture") or model.describe().get("ansatz") or type(model).__name__
        raise ValueError(
            f"layerwise_train does not apply to {name!r}: with the layers not yet reached at zero, every "
            f"gradient of layers 0..{reached - 1} is exactly 0 at all {len(params)} starts, so the first "
            f"stages would train nothing (zero layers pass no gradient back, as in deep nets). Train it "
            "whole with qcgrad.train, or use a circuit, where a layer at zero angles is the identity up to "
            "its fixed gates")


def layerwise_train(model: Model, optimizer: str = "adam", steps_per_stage: int = 50, n_runs: int = 16,
                    seed: int = 0, lr: float = 1e-2, *, layers_per_stage: int = 1, window: int | None = None,
                    **train_options: Any) -> LayerwiseResult:
    """Grow-and-train a layered model with any optimizer of :func:`qcgrad.train`.

    Parameters
    ----------
    model : Model
        Any model with groups ``"layer:0" .. "layer:L-1"`` (every circuit ansatz has them).
    optimizer : str
        A name in ``qcgrad.optim.OPTIMIZERS``.
    steps_per_stage : int
        Optimizer steps per stage.
    n_runs, seed, lr
        As in :func:`qcgrad.train`; runs start from samples ``0..n_runs-1`` of the seeded
        init stream with the layers beyond the first stage set to zero.
    layers_per_stage : int
        Layers added per stage; there are ``ceil(L / layers_per_stage)`` stages.
    window : int, optional
        Train only the ``window`` most recent layers in each stage (Skolik's phase one with
        a sliding window); default: all layers reached so far.
    **train_options
        Passed to :func:`qcgrad.train` (``schedule``, ``clip_norm``, ``optimizer_options``, ...).

    Returns
    -------
    LayerwiseResult

    Examples
    --------
    >>> from qcgrad.quantum import circuit
    >>> qc = circuit("hardware_efficient", n_qubits=2, n_layers=2, cost="local")
    >>> res = layerwise_train(qc, "adam", steps_per_stage=3, n_runs=2, seed=0)
    >>> res.trained_layers, tuple(res.loss.shape)
    ([(0, 1), (0, 2)], (7, 2))
    """
    n_layers = _layer_count(model)
    check_int(steps_per_stage=steps_per_stage, n_runs=n_runs, layers_per_stage=layers_per_stage)
    if window is not None:
        check_int(window=window)
    if "init" in train_options:
        raise ValueError("init is not a layerwise_train option: runs start from the seeded init stream "
                         "with later layers at zero")
    params = sample_block(model, seed, 0, n_runs).clone()
    for k in range(min(layers_per_stage, n_layers), n_layers):
        params[:, model.param_groups[f"layer:{k}"]] = 0.0
    _check_first_stage_learns(model, params, min(layers_per_stage, n_layers))
    stages, trained = [], []
    for reached in range(layers_per_stage, n_layers + layers_per_stage, layers_per_stage):
        reached = min(reached, n_layers)
        first = 0 if window is None else max(0, reached - window)
        idle = tuple(f"layer:{k}" for k in range(n_layers) if not first <= k < reached)
        result = train(_PartlyFrozen(model, tuple(model.frozen) + idle), optimizer, steps_per_stage, n_runs,
                       seed, lr, init=params, **train_options)
        params = result.params.to(params.dtype)
        stages.append(result)
        trained.append((first, reached))
    loss = torch.cat([s.loss[:-1] for s in stages] + [stages[-1].loss[-1:]])
    return LayerwiseResult(stages=stages, trained_layers=trained, loss=loss, params=params)


__all__ = ["layerwise_train", "LayerwiseResult"]
