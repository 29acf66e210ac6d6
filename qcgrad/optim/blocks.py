"""The blocks of the block-diagonal metric: which parameters share a parametrized layer.

PennyLane's block-diagonal approximation of the metric tensor (``qml.metric_tensor(...,
approx="block-diag")``) keeps the entries between the gates of one *parametrized layer*:
walking the trainable gates in circuit order, a gate opens a new layer when any gate of the
current layer is among its ancestors in the circuit's wire graph (Stokes et al. 2020, as
implemented in ``pennylane.CircuitGraph.parametrized_layers``). For a circuit this module
reads that layering off the operations its ansatz records once; every other model (or a
circuit in which one parameter drives several gates, such as ``hva``) gets the blocks of its
``param_groups``.
"""
from __future__ import annotations

import contextlib
import weakref
from typing import Any

import torch

from ..model import Model

_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def parameter_blocks(model: Model) -> torch.Tensor:
    """Block index of every parameter, ``Tensor[n_params]`` of int; −1 for frozen parameters.

    Parameters
    ----------
    model : Model
        A circuit (``model.ansatz.qfunc`` records its operations) or any model with
        ``param_groups``.

    Returns
    -------
    Tensor[n_params] of int64

    Examples
    --------
    >>> import qcgrad as qg
    >>> qc = qg.quantum.circuit("hardware_efficient", n_qubits=2, n_layers=2)
    >>> parameter_blocks(qc).tolist()  # RY layer, RZ layer, per circuit layer
    [0, 0, 1, 1, 2, 2, 3, 3]
    """
    try:
        return _CACHE[model].clone()
    except (KeyError, TypeError):  # TypeError: a model that cannot be weakly referenced
        pass
    blocks = _circuit_layers(model)
    if blocks is None:
        blocks = torch.full((model.n_params,), -1, dtype=torch.long)
        for g, sl in enumerate(model.param_groups.values()):
            blocks[sl] = g
        loose = torch.nonzero(blocks < 0)[:, 0]  # in no group: a block of its own, so its diagonal stays
        blocks[loose] = len(model.param_groups) + torch.arange(len(loose))
    blocks[~model.trainable] = -1
    with contextlib.suppress(TypeError):
        _CACHE[model] = blocks.clone()
    return blocks


def _circuit_layers(model: Any) -> torch.Tensor | None:
    """PennyLane's parametrized layers of a circuit's recorded gates; None when not applicable."""
    import pennylane as qml

    ansatz: Any = getattr(model, "ansatz", None)
    if not callable(getattr(ansatz, "qfunc", None)) or not hasattr(model, "wires"):
        return None
    p = model.sample_params(torch.Generator().manual_seed(0), 1).to(torch.float64).requires_grad_(True)
    with torch.enable_grad():
        with qml.queuing.AnnotatedQueue() as queue:
            ansatz.qfunc(p, model.wires, getattr(ansatz, "fixed_layers", None) or model.n_layers)
        nodes = _gate_nodes(list(queue.queue), p)
    if nodes is None:
        return None
    blocks = torch.full((model.n_params,), -1, dtype=torch.long)
    reach: dict = {}  # wire -> bitmask of the latest op on it and all its ancestors
    current, layer = 0, -1
    for i, (wires, param) in enumerate(nodes):
        ancestors = 0
        for w in wires:
            ancestors |= reach.get(w, 0)
        if param is not None:
            if blocks[param] >= 0:
                return None  # one parameter drives several gates: no per-parameter layer
            if layer < 0 or ancestors & current:
                layer, current = layer + 1, 0
            current |= 1 << i
            blocks[param] = layer
        for w in wires:
            reach[w] = ancestors | (1 << i)
    return blocks


def _gate_nodes(ops: list, p: torch.Tensor) -> list[tuple[tuple, int | None]] | None:
    """(wires, parameter index or None) per gate, operations with several angles decomposed.

    A ``qml.Barrier`` is a node like any gate, as in PennyLane's circuit graph: a trainable gate
    after a barrier has every gate before it on the barrier's wires among its ancestors. None
    when a gate angle depends on several parameters.
    """
    nodes: list[tuple[tuple, int | None]] = []
    for op in ops:
        data = [d for d in op.data if torch.is_tensor(d) and d.requires_grad]
        if len(data) > 1 or (data and data[0].numel() > 1):  # Rot, templates: one angle per gate
            inner = _gate_nodes(op.decomposition(), p)
            if inner is None:
                return None
            nodes.extend(inner)
            continue
        param = None
        if data:
            (g,) = torch.autograd.grad(data[0].sum(), p, retain_graph=True, allow_unused=True)
            cols = [] if g is None else torch.nonzero(g[0])[:, 0].tolist()
            if len(cols) > 1:
                return None
            param = cols[0] if cols else None
        nodes.append((tuple(op.wires), param))
    return nodes
