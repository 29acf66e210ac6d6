"""Measured peak memory of training vs inference as a model grows.

The peak is measured by tracking every tensor storage that torch allocates during the call
(a dispatch mode sees each op's outputs; a finalizer sees each storage freed), so it works
on CPU, where torch keeps no allocator statistics, and counts exactly the tensors that a
training step keeps alive for the backward pass.
"""
from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, Protocol, cast

import torch
from torch.func import functional_call
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from torch.utils.checkpoint import checkpoint_sequential

from ..model import Model
from ..seeding import sample_block
from .checks import check_params


def _storage_ptrs(tree: Any) -> set[int]:
    return {t.untyped_storage().data_ptr() for t in tree_leaves(tree)
            if isinstance(t, torch.Tensor) and t.device.type != "meta"}


class _PeakTracker(TorchDispatchMode):
    """Live and peak bytes of the storages created while the mode is active."""

    def __init__(self) -> None:
        super().__init__()
        self.live = 0
        self.peak = 0
        self._seen: set[int] = set()

    def _free(self, key: int, nbytes: int) -> None:
        self._seen.discard(key)
        self.live -= nbytes

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        # An output sharing an input's storage (a view, an in-place or out= op) allocates
        # nothing; counting it would add the input's whole storage — e.g. the parameter
        # block a split of θ views — once per op that touches it.
        aliased = _storage_ptrs((args, kwargs))
        for t in tree_leaves(out):
            if isinstance(t, torch.Tensor) and t.device.type != "meta":
                storage = t.untyped_storage()
                key, nbytes = storage.data_ptr(), storage.nbytes()
                if nbytes and key not in self._seen and key not in aliased:
                    self._seen.add(key)
                    self.live += nbytes
                    self.peak = max(self.peak, self.live)
                    weakref.finalize(storage, self._free, key, nbytes)
        return out


class _LayerChain(Protocol):
    """What checkpointing uses of a layer-chain model (a TorchModel of mlp or deep_linear)."""

    module: Any  # an nn.Module with ``layers`` and ``act``
    inputs: torch.Tensor

    def unflatten(self, theta: torch.Tensor) -> dict[str, torch.Tensor]: ...

    def _loss(self, out: torch.Tensor) -> torch.Tensor: ...


def peak_bytes(fn: Callable[[], Any]) -> int:
    """Peak bytes of tensor storage alive at once while ``fn()`` runs (its inputs excluded).

    Examples
    --------
    >>> peak_bytes(lambda: torch.ones(1000, dtype=torch.float64).sum())
    8008
    >>> x = torch.ones(1000, dtype=torch.float64)
    >>> peak_bytes(lambda: x[:10].sum())  # the view allocates nothing, the sum 8 bytes
    8
    """
    with _PeakTracker() as tracker:
        fn()
    return tracker.peak


def checkpointed_cost(model: Model, theta: torch.Tensor, segments: int | None = None) -> torch.Tensor:
    """Cost of one parameter vector with activation checkpointing between layer segments.

    The chain of layers is cut into ``segments`` pieces; only each piece's input is kept
    for the backward pass and the piece is recomputed there, so training stores
    O(segments + L/segments) activations instead of O(L) (√L each by default).

    Parameters
    ----------
    model : Model
        A layer chain: a :class:`qcgrad.classical.TorchModel` whose module has ``layers``
        (applied in order) and ``act`` (applied between them), as ``mlp`` and
        ``deep_linear`` build.
    theta : Tensor[n_params]
        One parameter vector (checkpoint segments cannot be recomputed under ``vmap``).
    segments : int, optional
        Default ``round(sqrt(depth))``.

    Returns
    -------
    Tensor
        The scalar cost, differentiable with respect to ``theta``.

    Examples
    --------
    >>> import qcgrad as qg
    >>> net = qg.classical.mlp(depth=4, width=3)
    >>> theta = net.sample_params(torch.Generator().manual_seed(0), 1)
    >>> torch.allclose(checkpointed_cost(net, theta[0]), net.cost(theta)[0])
    True
    """
    module = getattr(model, "module", None)
    if not (hasattr(module, "layers") and hasattr(module, "act") and hasattr(model, "unflatten")):
        raise TypeError(f"checkpointing needs a layer-chain TorchModel (mlp, deep_linear); got {type(model).__name__}")
    chain = cast(_LayerChain, model)  # checked just above
    depth = len(chain.module.layers)
    segments = max(1, round(math.sqrt(depth))) if segments is None else segments
    if isinstance(segments, bool) or not isinstance(segments, int) or not 1 <= segments <= depth:
        raise ValueError(f"segments={segments!r} is not allowed; use an int in [1, {depth}]")
    named = chain.unflatten(check_params(model, theta, batched=False, name="theta"))

    def stage(k: int) -> Callable[[torch.Tensor], torch.Tensor]:
        layer, prefix = chain.module.layers[k], f"layers.{k}."
        own = {name.removeprefix(prefix): v for name, v in named.items() if name.startswith(prefix)}
        return lambda x: functional_call(layer, own, (x if k == 0 else chain.module.act(x),))

    out = checkpoint_sequential([stage(k) for k in range(depth)], segments, chain.inputs, use_reentrant=False)
    return chain._loss(out)


def memory_profile(build: Callable[[int], Model], depths: Iterable[int], n_runs: int = 1,
                   seed: int = 0, checkpoint: bool = False) -> list[dict[str, Any]]:
    """Peak memory of one training step vs one inference pass at each depth.

    Training (cost and backward) keeps every layer's activations for the backward pass,
    O(P + B·L·d); inference frees them layer by layer, O(P + B·d). Each record also carries
    the parameter bytes P so the two models can be fitted to the measurements.

    Parameters
    ----------
    build : callable
        ``depth -> Model``.
    depths : iterable of int
    n_runs : int
        Parameter vectors evaluated at once.
    seed : int
    checkpoint : bool
        Also measure a training step with activation checkpointing
        (:func:`checkpointed_cost`, √L segments); needs a layer-chain model and
        ``n_runs=1``. Its peak lies between inference and plain training.

    Returns
    -------
    list of dict
        ``depth``, ``param_bytes``, ``train_bytes``, ``inference_bytes`` (and
        ``checkpoint_bytes`` when asked) and the model description, one per depth.
    """
    if checkpoint and n_runs != 1:
        raise ValueError(f"n_runs={n_runs!r} is not allowed with checkpoint=True; use n_runs=1")
    records = []
    for depth in depths:
        model = build(depth)
        theta = sample_block(model, seed, 0, n_runs).clone()  # own storage, not a view of the sample block
        record = {"depth": depth, "param_bytes": theta.numel() * theta.element_size(),
                  "train_bytes": peak_bytes(partial(_train_step, model, theta)),
                  "inference_bytes": peak_bytes(partial(_inference, model, theta))}
        if checkpoint:
            record["checkpoint_bytes"] = peak_bytes(partial(_checkpointed_step, model, theta[0]))
        records.append({**record, "model": model.describe()})
    return records


def _train_step(model: Model, theta: torch.Tensor) -> None:
    p = theta.detach().requires_grad_(True)
    model.cost(p).sum().backward()


def _checkpointed_step(model: Model, theta: torch.Tensor) -> None:
    p = theta.detach().requires_grad_(True)
    checkpointed_cost(model, p).backward()


def _inference(model: Model, theta: torch.Tensor) -> None:
    with torch.no_grad():
        model.cost(theta)
