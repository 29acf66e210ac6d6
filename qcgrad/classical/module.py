"""Any ``nn.Module`` as a qcgrad Model: ``from_module``, batched over init samples with torch.func.

The module is a template. A private copy of it is put in inference mode (Dropout off) with
BatchNorm switched to the statistics of the current batch and no running buffers, so a
forward pass never mutates anything and runs under ``torch.func.vmap``; the user's module is
never read after construction or written at all. Its parameters are laid out, group by
group, in one flat vector; ``cost`` and ``grad`` evaluate many vectors at once with
``functional_call`` under ``vmap`` (the torch model-ensembling recipe), or, where vmap cannot
run the module, one sample at a time (the same numbers up to rounding, with a warning saying why).

Init samples: ``init="reset"`` redraws every sample with the module's own
``reset_parameters()`` (torch's default init of each layer). Sample i runs under a forked
global RNG seeded with the i-th of ``n`` int64 draws of the qcgrad generator
(``torch.randint(0, 2**62, (n,), generator=generator)``), resetting submodules children
first (post-order, the order in which constructors run), in float64; so the draws are
deterministic, independent of the global RNG, and the same numbers (rounded) at any dtype.
"""
from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, replace_all_batch_norm_modules_, vmap

from ..model import Model
from ..validation import check_positive, warn_user
from .base import fixed_batch
from .inits import INITS
from .layers import Norm

#: What ``groups=`` accepts besides a dict: top-level children, or every module with own parameters.
GROUPINGS = ("children", "leaves")
#: Built-in losses: mean squared error against the targets, or cross-entropy against class indices.
LOSSES = ("mse", "cross_entropy")
#: Module types whose 1-D ``weight`` is a scale (initialized to 1 by the named schemes).
_NORMS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, Norm)

Init = str | Callable[[nn.Module], Any]
Groups = str | dict[str, nn.Module | Sequence[nn.Module]]


def _reset_method(module: nn.Module) -> Callable[[], Any] | None:
    # MultiheadAttention and nn.Transformer call theirs _reset_parameters.
    reset = getattr(module, "reset_parameters", None) or getattr(module, "_reset_parameters", None)
    return reset if callable(reset) else None


def _reset_all(module: nn.Module) -> None:
    """Reset every submodule that can reset itself, children before their parent (as constructors run)."""
    for child in module.children():
        _reset_all(child)
    reset = _reset_method(module)
    if reset is not None:
        reset()


def _group_name(name: str) -> str:
    # An nn.Sequential names its children "0", "1", ...: keep qcgrad's "layer:k" convention.
    return f"layer:{name}" if name.isdigit() else name or "root"


def _parse_init(init: Init) -> tuple[str | Callable, float]:
    """(scheme name or callable, std) for ``init``; raises naming what is allowed."""
    allowed = "'reset', " + ", ".join(repr(k) for k in INITS) + ", 'normal:std=<float>' or a callable(module)"
    if callable(init):
        return init, 1.0
    if not isinstance(init, str):
        raise TypeError(f"init={init!r} is not allowed; use {allowed}")
    match = re.fullmatch(r"normal:std=(.+)", init)
    if match:
        try:
            std = float(match.group(1))
        except ValueError:
            raise ValueError(f"init={init!r} is not allowed; std must be a number, e.g. 'normal:std=0.1'") from None
        check_positive(std=std)
        return "normal", std
    if init != "reset" and init not in INITS:
        raise ValueError(f"init={init!r} is not allowed; use {allowed}")
    return init, 1.0


class ModuleParams:
    """A module's parameters as one flat vector: layout, groups, init samples, functional forward.

    Parameters
    ----------
    module : nn.Module
        The template (copied; the original is neither used nor changed later).
    groups : {"children", "leaves"} or dict
        Top-level children, every module with parameters of its own, or name -> submodule(s)
        of ``module``. Each parameter must belong to exactly one group.
    init : str or callable
        ``"reset"``, a name in :data:`qcgrad.classical.INITS`, ``"normal:std=<float>"``, or a
        callable applied to every submodule of a fresh copy (``copy.apply(init)``) under the
        seeded RNG, as ``module.apply(init_weights)`` is used in torch code.
    dtype : torch.dtype
    """

    def __init__(self, module: nn.Module, groups: Groups, init: Init, dtype: torch.dtype) -> None:
        if not isinstance(module, nn.Module):
            raise TypeError(f"module={type(module).__name__} is not allowed; it must be a torch.nn.Module")
        named = list(module.named_parameters())
        if not named:
            raise ValueError(f"module {type(module).__name__} has no parameters; there is no gradient to measure")
        self.scheme, self.std = _parse_init(init)
        self.init = init if isinstance(init, str) else getattr(init, "__name__", type(init).__name__)
        self.param_groups_names = self._groups(module, groups, named)
        shapes = dict(named)
        self.names = [n for names in self.param_groups_names.values() for n in names]
        self.shapes = {n: shapes[n].shape for n in self.names}
        self.sizes = [shapes[n].numel() for n in self.names]
        self.n_params = sum(self.sizes)
        self.param_groups: dict[str, slice] = {}
        offset = 0
        for group, names in self.param_groups_names.items():
            size = sum(shapes[n].numel() for n in names)
            self.param_groups[group] = slice(offset, offset + size)
            offset += size
        # Draws in float64 (the same numbers, rounded, at any dtype); forward in ``dtype``.
        self._draw = copy.deepcopy(module).to(torch.float64)
        replace_all_batch_norm_modules_(self._draw)
        if self.scheme == "reset":
            self._check_resettable()
        self.template = copy.deepcopy(self._draw).to(dtype).eval()
        self.dtype = dtype
        self._owners = {name: mod for mod_name, mod in self._draw.named_modules()
                        for name in (f"{mod_name}.{p}" if mod_name else p
                                     for p, _ in mod.named_parameters(recurse=False))}

    @staticmethod
    def _groups(module: nn.Module, groups: Groups, named: list) -> dict[str, list[str]]:
        owner = {id(p): name for name, p in named}
        out: dict[str, list[str]] = {}
        if isinstance(groups, dict):
            claimed: dict[str, str] = {}
            for group, subs in groups.items():
                subs = [subs] if isinstance(subs, nn.Module) else list(subs)
                names = []
                for sub in subs:
                    if not isinstance(sub, nn.Module):
                        raise TypeError(f"groups[{group!r}] holds {type(sub).__name__}; use submodules of the module")
                    for p in sub.parameters():
                        if id(p) not in owner:
                            raise ValueError(f"groups[{group!r}] holds a module that is not part of the module")
                        name = owner[id(p)]
                        if name in claimed:
                            raise ValueError(f"parameter {name!r} is in groups {claimed[name]!r} and {group!r}; "
                                             "each parameter must be in one group")
                        claimed[name] = group
                        names.append(name)
                if names:
                    out[group] = names
        elif groups in GROUPINGS:
            mods = module.named_children() if groups == "children" else module.named_modules()
            own = [p for _, p in module.named_parameters(recurse=False)]
            if groups == "children" and own:
                out["root"] = [owner[id(p)] for p in own]
            for name, sub in mods:
                params = sub.parameters(recurse=groups == "children")
                names = list(dict.fromkeys(owner[id(p)] for p in params if id(p) in owner))
                names = [n for n in names if all(n not in v for v in out.values())]  # tied weights: first owner
                if names:
                    out[_group_name(name)] = names
        else:
            raise ValueError(f"groups={groups!r} is not allowed; use 'children', 'leaves' or a dict "
                             "name -> submodule(s)")
        missing = sorted(set(owner.values()) - {n for names in out.values() for n in names})
        if missing:
            raise ValueError(f"parameters outside every group: {missing}; add them to groups")
        return out

    def _check_resettable(self) -> None:
        resettable = {name for name, mod in self._draw.named_modules() if _reset_method(mod) is not None}
        for name, mod in self._draw.named_modules():
            own = [p for p, _ in mod.named_parameters(recurse=False)]
            parts = name.split(".") if name else []
            lineage = {".".join(parts[:k]) for k in range(len(parts) + 1)}  # itself and its ancestors
            if own and not lineage & resettable:
                raise ValueError(f"init='reset' is not allowed: module {name or 'root'!r} ({type(mod).__name__}) "
                                 f"has parameters {own} but no reset_parameters(); use a named init "
                                 f"({', '.join(INITS)}, 'normal:std=…') or a callable")

    def flatten(self, module: nn.Module) -> torch.Tensor:
        """The flat vector of ``module``'s current parameters, in this layout."""
        params = dict(module.named_parameters())
        return torch.cat([params[n].detach().reshape(-1) for n in self.names])

    def sample(self, generator: torch.Generator, n: int) -> torch.Tensor:
        """``Tensor[n, n_params]`` of init samples (drawn in float64, cast to the dtype)."""
        if callable(self.scheme) or self.scheme == "reset":
            seeds = torch.randint(0, 2**62, (n,), generator=generator).tolist()
            rows = []
            for seed in seeds:
                with torch.random.fork_rng(devices=[]), torch.no_grad():
                    torch.manual_seed(seed)
                    if callable(self.scheme):
                        self._draw.apply(self.scheme)
                    else:
                        _reset_all(self._draw)
                    rows.append(self.flatten(self._draw))
            flat = torch.stack(rows) if rows else torch.empty(0, self.n_params, dtype=torch.float64)
            return flat.to(self.dtype)
        pieces = []
        for name in self.names:
            shape = tuple(self.shapes[name])
            if len(shape) >= 2:
                pieces.append(INITS[self.scheme](generator, n, shape, torch.float64, self.std).reshape(n, -1))
            else:  # biases 0, normalization scales 1
                scale = isinstance(self._owners[name], _NORMS) and name.rsplit(".", 1)[-1] == "weight"
                pieces.append(torch.full((n, math.prod(shape)), float(scale), dtype=torch.float64))
        return torch.cat(pieces, dim=1).to(self.dtype)

    def unflatten(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{parameter name: tensor}`` views of one flat vector ``theta[n_params]``."""
        pieces = theta.split(self.sizes)
        return {name: piece.view(self.shapes[name]) for name, piece in zip(self.names, pieces, strict=True)}

    def forward(self, theta: torch.Tensor, inputs: torch.Tensor | tuple) -> Any:
        """The module's output for one parameter vector (vmap this over samples)."""
        args = inputs if isinstance(inputs, tuple) else (inputs,)
        return functional_call(self.template, self.unflatten(theta), args)


class ModuleModel(Model):
    """A torch module on a fixed batch, as a qcgrad Model (built by :func:`from_module`).

    Attributes
    ----------
    module : nn.Module
        The private template (inference mode, BatchNorm on batch statistics).
    inputs, targets : Tensor
    vmap_fallback : dict[str, str]
        ``"cost"`` and/or ``"grad"`` -> why vmap could not run that pass (it then runs one
        sample at a time); empty when vmap runs both.
    """

    def __init__(self, module: nn.Module, inputs: torch.Tensor | tuple, targets: Any, loss: str | Callable,
                 init: Init, groups: Groups, dtype: torch.dtype, seed: int) -> None:
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise TypeError(f"dtype={dtype!r} is not allowed; use torch.float64 or torch.float32")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed={seed!r} is not allowed; it must be an int ≥ 0")
        if not (callable(loss) or loss in LOSSES):
            raise ValueError(f"loss={loss!r} is not allowed; use one of: {', '.join(LOSSES)}, "
                             "or a callable (output, targets) -> scalar")
        self.part = ModuleParams(module, groups, init, dtype)
        self.module = self.part.template
        self.n_params, self.param_groups = self.part.n_params, self.part.param_groups
        self.dtype, self.seed = dtype, seed
        self.inputs = self._cast(inputs)
        self.loss = loss
        theta0 = self.part.flatten(self.part.template)
        try:
            out = self.part.forward(theta0, self.inputs)
        except Exception as err:
            raise ValueError(f"module {type(module).__name__}'s forward failed on inputs "
                             f"{self._shape(self.inputs)}: {type(err).__name__}: {err}") from err
        if not callable(loss) and not isinstance(out, torch.Tensor):
            raise TypeError(f"module {type(module).__name__} returns {type(out).__name__}; loss={loss!r} needs "
                            "one output tensor: wrap the module, or pass a callable loss")
        if targets is None and loss == "mse":
            (targets,) = fixed_batch(seed, [tuple(out.shape)], dtype)
        if targets is None and loss == "cross_entropy":
            raise ValueError("loss='cross_entropy' needs targets (class indices)")
        self.targets = self._cast(targets)
        try:
            value = self._loss(out)
        except Exception as err:
            raise ValueError(f"loss={self._loss_name()!r} failed on the module's output {self._shape(out)} and "
                             f"targets {self._shape(self.targets)}: {type(err).__name__}: {err}") from err
        if not isinstance(value, torch.Tensor) or value.numel() != 1 or not value.is_floating_point():
            got = f"shape {tuple(value.shape)}" if isinstance(value, torch.Tensor) else type(value).__name__
            raise ValueError(f"loss={self._loss_name()!r} returned {got}; it must return one floating scalar "
                             "per parameter sample (the loss on the whole batch)")
        self.vmap_fallback: dict[str, str] = {}
        for kind, fn in (("cost", vmap(self.sample_cost)), ("grad", vmap(grad(self.sample_cost)))):
            try:
                fn(theta0[None])
            except Exception as err:  # no batching rule, or data-dependent control flow
                self.vmap_fallback[kind] = f"{type(err).__name__}: {(str(err).splitlines() or [''])[0]}"
        if self.vmap_fallback:
            reasons = "; ".join(f"{kind}: {why}" for kind, why in self.vmap_fallback.items())
            warn_user(f"torch.func.vmap cannot run {type(module).__name__} ({reasons}); evaluating "
                      f"{' and '.join(self.vmap_fallback)} one sample at a time (same numbers, slower)")

    def _cast(self, value: Any) -> Any:
        if isinstance(value, tuple):
            return tuple(self._cast(v) for v in value)
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            return value.detach().to(self.dtype)
        return value

    @staticmethod
    def _shape(inputs: Any) -> Any:
        if isinstance(inputs, tuple):
            return tuple(ModuleModel._shape(v) for v in inputs)
        return tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__

    def _loss_name(self) -> str:
        return self.loss if isinstance(self.loss, str) else getattr(self.loss, "__name__", "callable")

    def _loss(self, out: Any) -> torch.Tensor:
        if callable(self.loss):
            return self.loss(out, self.targets)
        if self.loss == "cross_entropy":
            return F.cross_entropy(out, self.targets)
        return ((out - self.targets) ** 2).mean()

    def forward(self, theta: torch.Tensor, inputs: Any = None) -> Any:
        """The module's output for one parameter vector (on ``inputs``, default the fixed batch)."""
        return self.part.forward(theta, self.inputs if inputs is None else inputs)

    def sample_cost(self, theta: torch.Tensor) -> torch.Tensor:
        """Cost of one parameter vector ``theta[n_params]`` (``cost`` vmaps it)."""
        return self._loss(self.forward(theta)).reshape(())

    def sample_params(self, generator: torch.Generator, n: int) -> torch.Tensor:
        """``Tensor[n, n_params]`` from the init (see the module docstring for the seeding)."""
        return self.part.sample(generator, n)

    def cost(self, params: torch.Tensor) -> torch.Tensor:
        """Loss on the fixed batch for each row of ``params[n, n_params]``: ``Tensor[n]``."""
        if "cost" not in self.vmap_fallback:
            return vmap(self.sample_cost)(params)
        return torch.stack([self.sample_cost(theta) for theta in params])

    def grad(self, params: torch.Tensor, indices: torch.Tensor | None = None) -> torch.Tensor:
        """Per-sample gradients by ``vmap(grad(cost))`` (or one sample at a time)."""
        params = params.detach()
        if "grad" not in self.vmap_fallback:
            g = vmap(grad(self.sample_cost))(params)
        else:
            g = torch.stack([grad(self.sample_cost)(theta) for theta in params])
        return g if indices is None else g[:, torch.as_tensor(indices, dtype=torch.long)]

    def astype(self, dtype: torch.dtype) -> ModuleModel:
        """The same model in another precision, its data cast (the float32 twin of a float64 model)."""
        twin = copy.copy(self)
        twin.part = copy.copy(self.part)
        twin.part.template = copy.deepcopy(self.part.template).to(dtype)
        twin.part.dtype = twin.dtype = dtype
        twin.module = twin.part.template
        twin.inputs, twin.targets = twin._cast(self.inputs), twin._cast(self.targets)
        return twin

    def describe(self) -> dict[str, Any]:
        first = self.inputs[0] if isinstance(self.inputs, tuple) else self.inputs
        return {"family": "classical", "architecture": "module", "module": type(self.module).__name__,
                "n_params": self.n_params, "init": self.part.init, "loss": self._loss_name(),
                "batch_size": int(first.shape[0]) if first.dim() else 1, "seed": self.seed,
                "dtype": str(self.dtype).removeprefix("torch.")}


def from_module(module: nn.Module, inputs: torch.Tensor | tuple, targets: torch.Tensor | None = None,
                loss: str | Callable[[Any, Any], torch.Tensor] = "mse", init: Init = "reset",
                groups: Groups = "children", dtype: torch.dtype = torch.float64, seed: int = 0) -> ModuleModel:
    """Any ``nn.Module`` on a fixed batch as a qcgrad Model.

    Parameters
    ----------
    module : nn.Module
        The network, used as a template (copied; the original is not changed). Dropout is
        off; BatchNorm uses the batch's statistics and keeps no running statistics.
    inputs : Tensor or tuple of Tensor
        The fixed batch: ``module(inputs)`` (``module(*inputs)`` for a tuple). Floating
        tensors are cast to ``dtype``; integer ones (Embedding indices) are kept.
    targets : Tensor, optional
        For ``loss="mse"``: standard-normal targets of the output's shape drawn from
        ``seed`` when omitted; for ``"cross_entropy"``: class indices (required).
    loss : {"mse", "cross_entropy"} or callable
        Cost of one parameter sample: mean squared error, cross-entropy, or
        ``loss(output, targets)`` returning one scalar for the whole batch.
    init : str or callable
        ``"reset"`` (the module's own ``reset_parameters()``, default), ``"xavier"``,
        ``"he"``, ``"orthogonal"``, ``"small"``, ``"normal"`` / ``"normal:std=0.1"`` (every
        weight with ≥ 2 dims drawn by the scheme, fans as in torch; biases 0, normalization
        scales 1), or a callable ``fn(submodule)`` applied with ``copy.apply(fn)`` under the
        seeded RNG.
    groups : {"children", "leaves"} or dict
        Parameter groups: top-level children (default), every module with parameters of its
        own, or a dict name -> submodule or list of submodules. Digit names (the children
        of ``nn.Sequential``) become ``"layer:k"``.
    dtype : torch.dtype
        float64 by default.
    seed : int
        Seed of the default targets.

    Returns
    -------
    ModuleModel

    Examples
    --------
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    >>> model = from_module(net, torch.randn(16, 4))
    >>> model.n_params, list(model.param_groups)
    (49, ['layer:0', 'layer:2'])
    >>> model.grad(model.sample_params(torch.Generator().manual_seed(0), 3)).shape
    torch.Size([3, 49])
    """
    return ModuleModel(module, inputs, targets, loss, init, groups, dtype, seed)
