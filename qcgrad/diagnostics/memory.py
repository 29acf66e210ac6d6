"""Measured peak memory of training vs inference as a model grows.

The peak is measured by tracking every tensor storage that torch allocates during the call
(a dispatch mode sees each op's outputs; a finalizer sees each storage freed), so it works
on CPU, where torch keeps no allocator statistics, and counts exactly the tensors that a
training step keeps alive for the backward pass.
"""
from __future__ import annotations

import weakref
from typing import Any, Callable, Iterable

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from ..model import Model
from ..seeding import sample_block


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
        for t in tree_leaves(out):
            if isinstance(t, torch.Tensor) and t.device.type != "meta":
                storage = t.untyped_storage()
                key, nbytes = storage.data_ptr(), storage.nbytes()
                if nbytes and key not in self._seen:  # views share their base's storage
                    self._seen.add(key)
                    self.live += nbytes
                    self.peak = max(self.peak, self.live)
                    weakref.finalize(storage, self._free, key, nbytes)
        return out


def peak_bytes(fn: Callable[[], Any]) -> int:
    """Peak bytes of tensor storage alive at once while ``fn()`` runs (its inputs excluded).

    Examples
    --------
    >>> peak_bytes(lambda: torch.ones(1000, dtype=torch.float64).sum())
    8008
    """
    with _PeakTracker() as tracker:
        fn()
    return tracker.peak


def memory_profile(build: Callable[[int], Model], depths: Iterable[int], n_runs: int = 1,
                   seed: int = 0) -> list[dict[str, Any]]:
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

    Returns
    -------
    list of dict
        ``depth``, ``param_bytes``, ``train_bytes``, ``inference_bytes`` and the model
        description, one per depth.
    """
    records = []
    for depth in depths:
        model = build(depth)
        theta = sample_block(model, seed, 0, n_runs)

        def step() -> None:
            p = theta.detach().requires_grad_(True)
            model.cost(p).sum().backward()

        def infer() -> None:
            with torch.no_grad():
                model.cost(theta)

        records.append({"depth": depth, "param_bytes": theta.numel() * theta.element_size(),
                        "train_bytes": peak_bytes(step), "inference_bytes": peak_bytes(infer),
                        "model": model.describe()})
    return records
