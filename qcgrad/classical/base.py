"""TorchModel: any torch module as a qcgrad Model, batched over init samples with torch.func.

The module's parameters are flattened, group by group, into one vector; ``cost`` and
``grad`` evaluate n parameter vectors at once with ``torch.func.functional_call`` under
``torch.func.vmap`` — one vectorized pass, no Python loop over samples. The module itself
is only a template: its own tensors are never read or written.
"""
from __future__ import annotations

import copy
import math
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from ..model import Model
from ..seeding import derive_seed
from ..validation import check_choice
from .layers import Leaf

#: What ``loss=`` accepts: mean squared error against the fixed targets, or the summed output.
LOSSES = ("mse", "output")


def fixed_batch(seed: int, shapes: list[tuple[int, ...]], dtype: torch.dtype) -> list[torch.Tensor]:
    """Standard-normal tensors of the given shapes, the same for the same ``seed``.

    The data batch is part of the model, not of the init sample: every init sample sees it.
    Each tensor has its own stream, so the targets do not change when the input shape does
    (a scan over seq_len compares the same targets). Drawn in float64 and cast, so a float32
    model's data are the float64 model's data rounded.
    """
    return [torch.randn(shape, generator=torch.Generator().manual_seed(derive_seed(seed, "data", i)),
                        dtype=torch.float64).to(dtype)
            for i, shape in enumerate(shapes)]


def check_real(**knobs: object) -> None:
    """Raise ValueError unless every knob is a finite real number (NaN and ±inf are not), naming the bad one."""
    for name, value in knobs.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{name}={value!r} is not allowed; it must be a finite number")


class TorchModel(Model):
    """A torch module with leaf layers (``qcgrad.classical.layers.Leaf``) as a Model.

    Parameters
    ----------
    module : nn.Module
        The network; ``module(inputs)`` is its output. Every parameter must sit in a Leaf.
    groups : dict[str, nn.Module]
        Group name -> submodule, in order; each parameter belongs to exactly one group
        and the flat vector is laid out group by group (so groups are slices).
    inputs : Tensor
        Fixed input batch.
    targets : Tensor, optional
        Fixed targets, for ``loss="mse"``.
    loss : {"mse", "output"}
        Cost per sample: mean squared error of the output against ``targets``, or the sum of
        the output itself (the scalar tower's cost is f_L).
    knobs : dict
        What :meth:`describe` reports (family and dtype are added).
    dtype : torch.dtype
        Parameter and data dtype. float64 by default in the builders: gradients of deep
        sigmoid nets underflow float32.
    """

    def __init__(self, module: nn.Module, groups: dict[str, nn.Module], inputs: torch.Tensor,
                 targets: torch.Tensor | None, loss: str, knobs: dict[str, Any], dtype: torch.dtype):
        check_choice("loss", loss, LOSSES)
        if loss == "mse" and targets is None:
            raise ValueError("loss='mse' needs targets")
        self.module, self.inputs, self.targets, self.loss = module, inputs, targets, loss
        self.dtype, self.knobs = dtype, dict(knobs)
        owner = {id(p): name for name, p in module.named_parameters()}
        self.shapes: dict[str, torch.Size] = {}
        self.param_slices: dict[str, slice] = {}
        self.param_groups: dict[str, slice] = {}
        offset = 0
        for group, sub in groups.items():
            start = offset
            for p in sub.parameters():
                name = owner.pop(id(p))
                self.shapes[name] = p.shape
                self.param_slices[name] = slice(offset, offset + p.numel())
                offset += p.numel()
            self.param_groups[group] = slice(start, offset)
        if owner:
            raise ValueError(f"parameters outside every group: {sorted(owner.values())}")
        self.n_params = offset
        self._sizes = [sl.stop - sl.start for sl in self.param_slices.values()]
        self._ends = torch.tensor([sl.stop for sl in self.param_slices.values()])
        self._leaves = [(prefix, m) for prefix, m in module.named_modules() if isinstance(m, Leaf)]

    def sample_params(self, generator: torch.Generator, n: int) -> torch.Tensor:
        """Draw ``n`` init samples, leaf by leaf (each leaf vectorized over ``n``).

        Drawn in float64 and cast: the same seed gives the same samples, rounded, at any dtype.
        """
        flat = torch.empty(n, self.n_params, dtype=self.dtype)
        for prefix, leaf in self._leaves:
            for local, value in leaf.sample(generator, n, torch.float64).items():
                name = f"{prefix}.{local}" if prefix else local
                flat[:, self.param_slices[name]] = value.reshape(n, -1)
        return flat

    def unflatten(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{parameter name: tensor}`` views of one flat vector ``theta[n_params]``."""
        # split, not slicing: its backward is one concatenation, where P slices would each
        # scatter into a full-length zero gradient (O(P²) work).
        pieces = theta.split(self._sizes)
        return {name: piece.view(shape) for (name, shape), piece in zip(self.shapes.items(), pieces, strict=True)}

    def forward(self, theta: torch.Tensor, inputs: torch.Tensor | None = None) -> torch.Tensor:
        """The network's output for one parameter vector (vmap this over samples)."""
        x = self.inputs if inputs is None else inputs
        return functional_call(self.module, self.unflatten(theta), (x,))

    def _loss(self, out: torch.Tensor) -> torch.Tensor:
        if self.loss == "output":
            return out.sum()
        assert self.targets is not None  # __init__ refuses loss="mse" without targets
        return ((out - self.targets) ** 2).mean()

    def sample_cost(self, theta: torch.Tensor) -> torch.Tensor:
        """Cost of one parameter vector ``theta[n_params]`` (unbatched; ``cost`` vmaps it)."""
        return self._loss(self.forward(theta))

    def cost(self, params: torch.Tensor) -> torch.Tensor:
        """Loss on the fixed batch for each of ``params[n, n_params]``: ``Tensor[n]``."""
        return vmap(self.sample_cost)(params)

    def grad(self, params: torch.Tensor, indices: torch.Tensor | None = None) -> torch.Tensor:
        """Per-sample gradients by ``vmap(grad(cost))``: ``Tensor[n, n_params]`` or ``[n, k]``.

        With ``indices``, only the parameter tensors holding them are differentiated: the
        backward pass still runs through every layer, but skips the other weight gradients
        (for ``params="first"`` about a third of the work and all of the memory).
        """
        if indices is None:
            wanted = list(self.shapes)
        else:
            indices = torch.as_tensor(indices, dtype=torch.long)
            owners = set(torch.bucketize(indices, self._ends, right=True).tolist())
            wanted = [name for k, name in enumerate(self.shapes) if k in owners]

        def grad_one(theta: torch.Tensor) -> torch.Tensor:
            p = self.unflatten(theta)
            rest = {n: v for n, v in p.items() if n not in wanted}

            def loss(chosen: dict[str, torch.Tensor]) -> torch.Tensor:
                return self._loss(functional_call(self.module, {**rest, **chosen}, (self.inputs,)))

            g = grad(loss)({n: p[n] for n in wanted})
            return torch.cat([g[n].reshape(-1) for n in wanted])

        g = vmap(grad_one)(params.detach())
        if indices is None:
            return g
        # Position of each index in the compact vector of wanted tensors.
        offset, compact = 0, torch.empty_like(indices)
        for name in wanted:
            sl = self.param_slices[name]
            inside = (indices >= sl.start) & (indices < sl.stop)
            compact[inside] = indices[inside] - sl.start + offset
            offset += sl.stop - sl.start
        return g[:, compact]

    def astype(self, dtype: torch.dtype) -> TorchModel:
        """The same model in another precision, its data cast (the float32 twin of a float64 model).

        Examples
        --------
        >>> from qcgrad.classical import mlp
        >>> net = mlp(depth=2, width=3)
        >>> torch.equal(net.astype(torch.float32).inputs, mlp(depth=2, width=3, dtype=torch.float32).inputs)
        True
        """
        twin = copy.copy(self)
        twin.dtype = dtype
        twin.inputs = self.inputs.to(dtype)
        twin.targets = None if self.targets is None else self.targets.to(dtype)
        return twin

    def describe(self) -> dict[str, Any]:
        return {"family": "classical", **self.knobs, "dtype": str(self.dtype).removeprefix("torch.")}


def build(architecture: str, module: nn.Module, groups: dict[str, nn.Module], input_shape: tuple[int, ...],
          output_shape: tuple[int, ...] | None, knobs: dict[str, Any], seed: int = 0,
          dtype: torch.dtype = torch.float64, loss: str = "mse",
          inputs: torch.Tensor | None = None) -> TorchModel:
    """A TorchModel on a standard-normal input batch and targets drawn from ``seed``.

    ``knobs`` are the builder's arguments; ``seed`` and ``dtype`` are recorded with them.
    """
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype={dtype!r} is not allowed; use torch.float64 or torch.float32")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed={seed!r} is not allowed; it must be an int")
    shapes = [input_shape] + ([output_shape] if output_shape is not None else [])
    data = fixed_batch(seed, shapes, dtype)
    x = data[0] if inputs is None else inputs.to(dtype)
    y = data[1] if output_shape is not None else None
    return TorchModel(module, groups, x, y, loss, {"architecture": architecture, **knobs, "seed": seed}, dtype)


def layer_groups(layers: nn.ModuleList, **others: nn.Module) -> dict[str, nn.Module]:
    """``{"layer:0": layers[0], ...}`` followed by the named extra groups (e.g. readout)."""
    return {**{f"layer:{k}": layer for k, layer in enumerate(layers)}, **others}

