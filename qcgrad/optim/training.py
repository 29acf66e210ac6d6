"""Training many independent initializations of any Model at once."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from ..model import Model
from ..seeding import sample_block
from ..validation import check_int
from .optimizers import make_optimizer
from .schedules import make_schedule
from .transforms import clip_by_global_norm, clip_by_value, make_loss_scaler

#: Precisions a run may compute its cost and gradient in (parameters stay in float32 or wider).
DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


@dataclass
class TrainResult:
    """Curves and final parameters of ``n_runs`` batched training runs.

    Attributes
    ----------
    loss : Tensor[steps + 1, n_runs]
        Cost before each step, and after the last.
    grad_norm : Tensor[steps, n_runs]
        L2 norm of each run's gradient (before clipping) at each step.
    group_grad_norm : dict[str, Tensor[steps, n_runs]]
        The same per trainable parameter group (``model.param_groups``).
    params : Tensor[n_runs, n_params]
        Final parameters.
    initial_params : Tensor[n_runs, n_params]
    skipped : Tensor[steps, n_runs] of bool
        Steps a run skipped because its gradient overflowed (dynamic loss scaling).
    loss_scale : Tensor[steps, n_runs] or None
        The loss scale used at each step, when loss scaling was on.
    config : dict
        Optimizer, lr, schedule, transforms, dtype, seed and ``model.describe()``.
    """

    loss: torch.Tensor
    grad_norm: torch.Tensor
    group_grad_norm: dict[str, torch.Tensor]
    params: torch.Tensor
    initial_params: torch.Tensor = field(repr=False)
    skipped: torch.Tensor = field(repr=False)
    loss_scale: torch.Tensor | None = field(default=None, repr=False)
    config: dict[str, Any] = field(default_factory=dict)

    def steps_to(self, target: float) -> torch.Tensor:
        """First step index at which each run's loss is ≤ ``target``; -1 where never reached."""
        hit = self.loss <= target
        first = hit.to(torch.int64).argmax(dim=0)
        return torch.where(hit.any(dim=0), first, torch.full_like(first, -1))


def _check(model: Model, steps: int, n_runs: int, dtype: torch.dtype | None, init: torch.Tensor | None) -> None:
    if not isinstance(model, Model):
        raise TypeError(f"model={model!r} is not a qcgrad.Model")
    check_int(steps=steps, n_runs=n_runs)
    if dtype is not None and dtype not in DTYPES:
        raise ValueError(f"dtype={dtype!r} is not allowed; use one of {DTYPES}")
    if init is not None and tuple(init.shape) != (n_runs, model.n_params):
        raise ValueError(f"init has shape {tuple(init.shape)}; expected (n_runs, n_params) = "
                         f"({n_runs}, {model.n_params})")


def train(
    model: Model,
    optimizer: str = "adam",
    steps: int = 100,
    n_runs: int = 16,
    seed: int = 0,
    lr: float = 1e-2,
    *,
    schedule: str | None = None,
    clip_norm: float | None = None,
    clip_value: float | None = None,
    loss_scale: float | str | None = None,
    dtype: torch.dtype | None = None,
    init: torch.Tensor | None = None,
    optimizer_options: dict[str, Any] | None = None,
    schedule_options: dict[str, Any] | None = None,
    approx: str | None = None,
) -> TrainResult:
    """Train ``n_runs`` independent initializations of ``model`` at once.

    The runs are the rows of one ``Tensor[n_runs, n_params]``: one cost call and one
    backward pass per step serve all of them, with no Python loop over runs. They start
    from samples ``0..n_runs-1`` of the seeded init stream — the same parameters whose
    gradient statistics :func:`qcgrad.gradient_variance` measures with that seed. Frozen
    groups (``model.frozen``) never change.

    Parameters
    ----------
    model : Model
    optimizer : str
        A name in :data:`qcgrad.optim.OPTIMIZERS`: sgd, momentum, nesterov, adam, rmsprop,
        adagrad, natural_gradient (classical models), qng (circuits; its metric is
        BLOCK-DIAGONAL unless ``approx="full"``, see ``approx``). Adam's bias correction
        counts each run's own steps, so a run that skipped steps is corrected for its history.
    steps : int
    n_runs : int
    seed : int
    lr : float
    schedule : str, optional
        A name in :data:`qcgrad.optim.SCHEDULES` (constant, step, exponential, cosine, warmup).
    clip_norm : float, optional
        Clip each run's gradient to this L2 norm (direction kept).
    clip_value : float, optional
        Clamp each gradient entry to ±clip_value.
    loss_scale : float or "dynamic", optional
        Multiply the loss by this before backpropagation (undone on the gradient), so
        float16/bfloat16 gradients do not flush to zero; "dynamic" adapts it per run.
    dtype : torch.dtype, optional
        Precision of the cost and its gradient; default the dtype of the init parameters.
        The optimizer keeps the parameters in the init dtype (float32 when that is a
        half-precision type). The model's cost must accept parameters of this dtype.
    init : Tensor[n_runs, n_params], optional
        Starting parameters instead of the seeded init stream.
    optimizer_options, schedule_options : dict, optional
        Extra keyword arguments (e.g. ``{"momentum": 0.5}``, ``{"damping": 1e-2}``); an
        unknown key raises ValueError naming the accepted ones
        (:func:`qcgrad.optim.optimizer_options`,
        :func:`qcgrad.optim.schedule_options`).
    approx : {"block-diag", "full", "diag"}, optional
        The metric of ``optimizer="qng"`` (same as ``optimizer_options={"approx": ...}``).
        Default ``"block-diag"``: the Fubini–Study metric's blocks within PennyLane's
        parametrized layers, as ``qml.QNGOptimizer`` uses; ``"full"`` keeps every entry,
        ``"diag"`` only the diagonal. All three cost about the same per step (one batched
        Jacobian of the state), but the trajectories differ: choose deliberately. Noisy
        circuits use ¼ of the quantum Fisher information of their density matrix. The value
        used is recorded in ``config["optimizer_options"]``.

    Returns
    -------
    TrainResult

    Examples
    --------
    >>> import qcgrad as qg
    >>> net = qg.classical.mlp(depth=3, width=4)
    >>> res = qg.train(net, "adam", steps=5, n_runs=4, seed=0)
    >>> res.loss.shape, res.params.shape == (4, net.n_params)
    (torch.Size([6, 4]), True)
    """
    _check(model, steps, n_runs, dtype, init)
    options = _optimizer_options(optimizer, optimizer_options, approx)
    start = sample_block(model, seed, 0, n_runs) if init is None else init
    master_dtype = start.dtype if start.dtype in (torch.float32, torch.float64) else torch.float32
    dtype = dtype or start.dtype
    theta = start.detach().clone().to(master_dtype).requires_grad_(True)
    opt = make_optimizer(optimizer, theta, model, lr, **options)
    sched = make_schedule(schedule, opt, steps, **(schedule_options or {}))
    scaler = make_loss_scaler(loss_scale, n_runs)
    frozen = torch.nonzero(~model.trainable)[:, 0]
    frozen_values = theta.detach()[:, frozen].clone()
    groups = {k: v for k, v in model.param_groups.items() if k not in model.frozen}

    losses, norms, group_norms, skipped, scales = [], [], [], [], []
    for _ in range(steps):
        low = theta.detach().to(dtype).requires_grad_(True)
        loss = model.cost(low)
        objective = loss.sum() if scaler is None else scaler.scale_loss(loss)
        (grad,) = torch.autograd.grad(objective, low)
        grad = grad.to(master_dtype) if scaler is None else scaler.unscale(grad, master_dtype)
        if len(frozen):
            grad[:, frozen] = 0
        norm = torch.linalg.vector_norm(grad, dim=1)
        finite = _finite_rows(grad, norm)
        losses.append(loss.detach().to(master_dtype))
        norms.append(norm)
        group_norms.append(torch.stack([torch.linalg.vector_norm(grad[:, sl], dim=1) for sl in groups.values()]))
        skipped.append(~finite)
        if scaler is not None:
            scales.append(scaler.scale.clone())
        if clip_value is not None:
            grad = clip_by_value(grad, clip_value)
        if clip_norm is not None:
            grad = clip_by_global_norm(grad, clip_norm)
        _step(opt, theta, grad if finite.all() else torch.where(finite[:, None], grad, 0.0), finite)
        if len(frozen):
            with torch.no_grad():
                theta[:, frozen] = frozen_values  # structure parameters never move
        sched.step()
        if scaler is not None:
            scaler.update(finite)
    with torch.no_grad():
        losses.append(model.cost(theta.detach().to(dtype)).to(master_dtype))

    per_group = torch.stack(group_norms)  # [steps, n_groups, n_runs]
    return TrainResult(
        loss=torch.stack(losses),
        grad_norm=torch.stack(norms),
        group_grad_norm={k: per_group[:, i] for i, k in enumerate(groups)},
        params=theta.detach(),
        initial_params=start.detach(),
        skipped=torch.stack(skipped),
        loss_scale=torch.stack(scales) if scaler is not None else None,
        config={"optimizer": optimizer, "lr": lr, "steps": steps, "n_runs": n_runs, "seed": seed,
                "schedule": schedule, "clip_norm": clip_norm, "clip_value": clip_value,
                "loss_scale": loss_scale, "dtype": str(dtype).removeprefix("torch."),
                "optimizer_options": options, "model": model.describe()},
    )


def _optimizer_options(optimizer: str, options: dict[str, Any] | None, approx: str | None) -> dict[str, Any]:
    """``optimizer_options`` with ``approx`` merged in, and qng's metric default made explicit."""
    options = dict(options or {})
    if approx is not None:
        if optimizer != "qng":
            raise ValueError(f"approx={approx!r} applies to optimizer='qng' only, not {optimizer!r}")
        if options.get("approx", approx) != approx:
            raise ValueError(f"approx={approx!r} contradicts optimizer_options['approx']={options['approx']!r}")
        options["approx"] = approx
    if optimizer == "qng":
        options.setdefault("approx", "block-diag")
    return options


def _finite_rows(grad: torch.Tensor, norm: torch.Tensor) -> torch.Tensor:
    """Which rows of ``grad`` are all finite, given their L2 norms.

    A finite norm proves a finite row, so the entrywise check (several full passes over
    ``grad``, as costly as an optimizer step) runs only on rows whose norm is not finite:
    a NaN or inf entry, or finite entries whose squares overflow.
    """
    finite = torch.isfinite(norm)
    if not finite.all():
        finite[~finite] = torch.isfinite(grad[~finite]).all(dim=1)
    return finite


def _step(opt: torch.optim.Optimizer, theta: torch.Tensor, grad: torch.Tensor, finite: torch.Tensor) -> None:
    """One optimizer step; runs whose gradient overflowed keep their parameters and state."""
    if finite.all():
        theta.grad = grad
        opt.step()
        return
    bad = ~finite
    kept_params = theta.detach()[bad].clone()
    kept_state = {k: v[bad].clone() for k, v in opt.state[theta].items()
                  if torch.is_tensor(v) and v.shape[:1] == theta.shape[:1]}
    theta.grad = grad
    opt.step()
    with torch.no_grad():
        theta[bad] = kept_params
        for k, v in kept_state.items():
            opt.state[theta][k][bad] = v
