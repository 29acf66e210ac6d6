"""Parameterized circuits as qcgrad Models: ``circuit(ansatz, n_qubits, n_layers, cost, ...)``."""
from __future__ import annotations

from typing import Any

import pennylane as qml
import torch

from ..model import Model
from . import engine, reference
from .ansatze import INITS, RANDOM_PAULI, TENSOR_PRODUCT, Ansatz
from .costs import GLOBAL, LOCAL, ZZ, Cost

ANSATZ_SPECS: dict[str, Ansatz] = {a.name: a for a in (RANDOM_PAULI, TENSOR_PRODUCT)}
COST_SPECS: dict[str, Cost] = {c.name: c for c in (ZZ, GLOBAL, LOCAL)}
#: At most this many partials go through parameter shift (2k forward passes); more use the
#: adjoint method (about four forward passes' worth of work for all partials).
MAX_SHIFT_PARTIALS = 2


class CircuitModel(Model):
    """A parameterized quantum circuit with a cost observable, as a :class:`qcgrad.Model`.

    Build it with :func:`circuit`. ``params`` rows hold the ansatz's flat parameter vector
    (for ``random_pauli`` the angles, then the frozen gate codes).

    ``device="engine"`` runs the batched torch engine (:mod:`qcgrad.quantum.engine`):
    :meth:`cost` and :meth:`state` are differentiable by torch autograd, :meth:`grad` uses
    batched parameter shift for up to :data:`MAX_SHIFT_PARTIALS` requested partials and the
    adjoint method otherwise. Any other ``device`` is a PennyLane device run sample by sample
    (the reference path).
    """

    def __init__(self, ansatz: Ansatz, cost: Cost, n_qubits: int, n_layers: int, init: str, device: str,
                 dtype: torch.dtype, max_memory: int) -> None:
        self.ansatz, self.cost_spec = ansatz, cost
        self.n_qubits, self.n_layers, self.init = n_qubits, n_layers, init
        self.device, self.dtype, self.max_memory = device, dtype, max_memory
        self.wires = list(range(n_qubits))
        depth = ansatz.fixed_layers or n_layers
        self.n_params = ansatz.shape(n_qubits, depth)
        self.param_groups = ansatz.groups(n_qubits, depth)
        self.frozen = ansatz.frozen
        self._depth = depth
        self._diagonal = cost.diagonal(n_qubits)
        self._nodes: dict[str, Any] = {}
        if device != "engine":
            self._qdevice = reference.open_device(device, n_qubits)

    # --- Model interface ----------------------------------------------------------------

    def sample_params(self, generator: torch.Generator, n: int) -> torch.Tensor:
        """``Tensor[n, n_params]`` from the ``init`` distribution (and random gate codes)."""
        return self.ansatz.sample(generator, n, self.n_qubits, self._depth, self.init)

    def describe(self) -> dict[str, Any]:
        return {"family": "quantum", "ansatz": self.ansatz.name, "n_qubits": self.n_qubits,
                "n_layers": self.n_layers, "cost": self.cost_spec.name, "init": self.init,
                "device": self.device}

    def cost(self, params: torch.Tensor) -> torch.Tensor:
        """⟨H⟩ per sample, ``Tensor[S, n_params] -> Tensor[S]`` (differentiable)."""
        params = self._check(params)
        if self.device != "engine":
            node = self._node("expval", lambda: qml.expval(self.cost_spec.observable(self.wires)))
            return reference.per_sample(node, params, with_grad=False)[0]
        return self._chunked(params, "forward", 1,
                             lambda p: engine.expectation(self._simulate(p), self._diagonal.to(p.device)))

    def state(self, params: torch.Tensor) -> torch.Tensor:
        """Final state vectors ``Tensor[S, 2**n_qubits]`` (complex), wire 0 most significant.

        On the engine path the result is differentiable by torch autograd with respect to
        ``params`` (backpropagation through the states: memory grows with depth), e.g. for
        the Fubini–Study metric of quantum natural gradient.
        """
        params = self._check(params)
        if self.device != "engine":
            return reference.per_sample(self._node("state", qml.state), params, with_grad=False)[0]
        return self._chunked(params, "forward", 1, self._simulate)

    def grad(self, params: torch.Tensor, indices: torch.Tensor | None = None) -> torch.Tensor:
        """Per-sample gradients ``Tensor[S, n_params]`` (or ``[S, k]`` for ``indices``).

        Frozen groups get zero. Engine: parameter shift in one batched forward pass when at
        most :data:`MAX_SHIFT_PARTIALS` partials are requested and the ansatz allows it,
        otherwise the adjoint method. Reference devices: the device's own method.
        """
        params = self._check(params).detach()
        if self.device != "engine":
            node = self._node("expval", lambda: qml.expval(self.cost_spec.observable(self.wires)))
            g = reference.per_sample(node, params, with_grad=True)[1]
        elif indices is not None and len(indices) <= MAX_SHIFT_PARTIALS and self.ansatz.pauli_shift:
            idx = torch.as_tensor(indices, dtype=torch.long)
            return self._chunked(params, "forward", 2 * len(idx), lambda p: self._shift_grad(p, idx))
        else:
            g = self._chunked(params, "adjoint", 1, self._adjoint_grad)
        g = g * self.trainable.to(g.device)
        return g if indices is None else g[:, torch.as_tensor(indices, dtype=torch.long)]

    # --- engine path --------------------------------------------------------------------

    def _record(self, params: torch.Tensor) -> list:
        with qml.queuing.AnnotatedQueue() as queue:
            self.ansatz.qfunc(params, self.wires, self._depth)
        return list(queue.queue)

    def _simulate(self, params: torch.Tensor) -> torch.Tensor:
        return engine.simulate(self._record(params), self.wires, params.shape[0], self.dtype, params.device)

    def _adjoint_grad(self, params: torch.Tensor) -> torch.Tensor:
        p = params.detach().requires_grad_(True)
        with torch.enable_grad():
            ops = self._record(p)
        _, g = engine.adjoint_gradient(ops, self.wires, p.shape[0], self._diagonal, p, self.dtype)
        return g

    def _shift_grad(self, params: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        # All 2k shifted copies of the batch in ONE forward pass: rows (+π/2, −π/2) per partial.
        s, k = params.shape[0], len(idx)
        shifts = torch.zeros(2 * k, self.n_params, dtype=params.dtype, device=params.device)
        rows = torch.arange(k, device=params.device)
        shifts[2 * rows, idx.to(params.device)] = torch.pi / 2
        shifts[2 * rows + 1, idx.to(params.device)] = -torch.pi / 2
        batch = (params[None] + shifts[:, None]).reshape(2 * k * s, self.n_params)
        with torch.no_grad():
            values = engine.expectation(self._simulate(batch), self._diagonal.to(params.device))
        values = values.view(k, 2, s)
        return ((values[:, 0] - values[:, 1]) / 2).T

    def _chunked(self, params: torch.Tensor, mode: str, copies: int, fn) -> torch.Tensor:
        step = engine.chunk_size(self.n_qubits, mode, self.dtype, self.max_memory, copies)
        if params.shape[0] <= step:
            return fn(params)
        return torch.cat([fn(params[lo: lo + step]) for lo in range(0, params.shape[0], step)])

    # --- shared -------------------------------------------------------------------------

    def _node(self, kind: str, measurement) -> Any:
        if kind not in self._nodes:
            self._nodes[kind] = reference.qnode(self._qdevice, self.device, self.ansatz.qfunc, self.wires,
                                                self._depth, measurement)
        return self._nodes[kind]

    def _check(self, params: torch.Tensor) -> torch.Tensor:
        if not isinstance(params, torch.Tensor):
            raise TypeError(f"params must be a torch.Tensor of shape [S, {self.n_params}], got {type(params).__name__}")
        if params.dim() != 2 or params.shape[1] != self.n_params:
            raise ValueError(f"params of shape {tuple(params.shape)} does not fit this model; expected "
                             f"[S, {self.n_params}]")
        return params if params.dtype == torch.float64 else params.to(torch.float64)


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}={value!r} must be an int >= {low}")
    if value < low:
        raise ValueError(f"{name}={value} is out of range; it must be an int >= {low}")
    return value


def circuit(ansatz: str, n_qubits: int, n_layers: int = 1, cost: str = "zz", init: str = "uniform",
            device: str = "engine", dtype: torch.dtype = torch.float64,
            max_memory: int = engine.DEFAULT_MAX_MEMORY) -> CircuitModel:
    """A parameterized circuit with a cost, as a :class:`qcgrad.Model`.

    Parameters
    ----------
    ansatz : str
        A name in :data:`qcgrad.quantum.ANSATZE`: ``"random_pauli"`` (McClean 2018) or
        ``"tensor_product"`` (Cerezo 2021; one layer by definition, ``n_layers`` is
        accepted and recorded but does not change the circuit).
    n_qubits : int
        ≥ 1 (≥ 2 for ``cost="zz"``).
    n_layers : int
        ≥ 1.
    cost : str
        A name in :data:`qcgrad.quantum.COSTS`: ``"zz"``, ``"global"``, ``"local"``.
    init : str
        ``"uniform"`` (U[0, 2π)) or ``"small_angle"`` (U[−0.1, 0.1)).
    device : str
        ``"engine"`` (batched torch engine, default) or a PennyLane device name such as
        ``"default.qubit"`` or ``"lightning.qubit"`` (reference path).
    dtype : torch.dtype
        Precision: ``torch.float64`` (complex128 states, default) or ``torch.float32``
        (complex64); the complex dtypes are accepted too.
    max_memory : int
        Bytes of state vectors per engine batch; samples are processed in chunks under it.

    Returns
    -------
    CircuitModel

    Examples
    --------
    >>> import qcgrad as qg, torch
    >>> qc = qg.quantum.circuit("tensor_product", n_qubits=2, cost="local")
    >>> qc.cost(torch.zeros(1, 2)).tolist()
    [0.0]
    """
    if ansatz not in ANSATZ_SPECS:
        raise ValueError(f"ansatz={ansatz!r} is not known; use one of {sorted(ANSATZ_SPECS)}")
    if cost not in COST_SPECS:
        raise ValueError(f"cost={cost!r} is not known; use one of {sorted(COST_SPECS)}")
    if init not in INITS:
        raise ValueError(f"init={init!r} is not known; use one of {sorted(INITS)}")
    if not isinstance(device, str):
        raise TypeError(f"device={device!r} must be 'engine' or a PennyLane device name")
    _check_int("n_qubits", n_qubits, 1)
    _check_int("n_layers", n_layers, 1)
    _check_int("max_memory", max_memory, 1)
    COST_SPECS[cost].check(n_qubits)
    engine._complex_dtype(dtype)
    return CircuitModel(ANSATZ_SPECS[ansatz], COST_SPECS[cost], n_qubits, n_layers, init, device, dtype, max_memory)
