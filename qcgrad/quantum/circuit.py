"""Parameterized circuits as qcgrad Models: ``circuit(ansatz, n_qubits, n_layers, cost, ...)``."""
from __future__ import annotations

from typing import Any

import pennylane as qml
import torch

from ..model import Model
from ..validation import check_int
from . import density, engine, noise as noise_, reference, shots as shots_
from .ansatze import ANSATZ_SPECS, Ansatz
from .costs import Cost, make_cost
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

    ``noise`` (a :class:`qcgrad.quantum.noise.Noise`) puts a local channel on every qubit after
    every layer: the engine then runs the batched density-matrix mode
    (:mod:`qcgrad.quantum.density`) and differentiates by autograd; reference devices must
    support channels (``default.mixed``). ``shots`` makes :meth:`grad` a finite-shot
    parameter-shift estimate (engine: seeded sampling from exact probabilities, see
    :mod:`qcgrad.quantum.shots`; reference devices: the device's own sampling).
    """

    def __init__(self, ansatz: Ansatz, cost: Cost, n_qubits: int, n_layers: int, init: str, device: str,
                 dtype: torch.dtype, max_memory: int, noise: noise_.Noise | None = None,
                 shots: int | None = None, shot_seed: int = 0) -> None:
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
        self.noise, self.shots, self.shot_seed = noise, shots, shot_seed
        if shots is not None and device == "engine" and self._diagonal is None:
            raise ValueError(f"shots={shots} on the engine samples computational-basis outcomes, but "
                             f"cost={cost.name!r} is not diagonal; use a diagonal cost or a PennyLane device")
        self._qfunc = ansatz.qfunc if noise is None else noise_.with_noise(ansatz.qfunc, noise)
        if noise is not None and depth > 1:
            found = noise_.count_layers(ansatz.qfunc, self.sample_params(torch.Generator().manual_seed(0), 1),
                                        self.wires, depth)
            if found != depth:
                raise ValueError(f"ansatz={ansatz.name!r} marks {found} layer(s) with qml.Barrier but has "
                                 f"{depth}; noise after every layer needs one Barrier per layer")
        if device != "engine":
            self._qdevice = reference.open_device(device, n_qubits)

    # --- Model interface ----------------------------------------------------------------

    def sample_params(self, generator: torch.Generator, n: int) -> torch.Tensor:
        """``Tensor[n, n_params]`` from the ``init`` distribution (and random gate codes)."""
        return self.ansatz.sample(generator, n, self.n_qubits, self._depth, self.init)

    def describe(self) -> dict[str, Any]:
        knobs = {"family": "quantum", "ansatz": self.ansatz.name, "n_qubits": self.n_qubits,
                 "n_layers": self.n_layers, "cost": self.cost_spec.name, "init": self.init,
                 **self.ansatz.knobs(),
                 "device": self.device}
        # Only when set, so noiseless exact models describe themselves as before.
        if self.noise is not None:
            knobs["noise"] = f"{self.noise.kind}:{self.noise.p}"
        if self.shots is not None:
            knobs["shots"] = self.shots
        return knobs

    def cost(self, params: torch.Tensor) -> torch.Tensor:
        """⟨H⟩ per sample, ``Tensor[S, n_params] -> Tensor[S]`` (differentiable)."""
        params = self._check(params)
        if self.device != "engine":
            node = self._node("expval", lambda: qml.expval(self.cost_spec.observable(self.wires)))
            return reference.per_sample(node, params, with_grad=False)[0]
        if self.noise is not None:
            return self._chunked(params, "density", 1, self._density_cost)
        return self._chunked(params, "forward", 1,
                             lambda p: self.cost_spec.expectation(self._simulate(p)))

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
        if self.shots is not None and self.device == "engine":
            idx = self.trainable.nonzero()[:, 0] if indices is None else torch.as_tensor(indices, dtype=torch.long)
            g = self._chunked(params, "density" if self.noise else "forward", 2 * len(idx),
                              lambda p: shots_.sampled_gradient(self, p, idx, self.shots))
            if indices is not None:
                return g
            return torch.zeros_like(params).index_copy_(1, idx.to(params.device), g)
        if self.noise is not None and self.device == "engine":
            g = self._chunked(params, "density", 1, self._density_grad)
        elif self.device != "engine":
            node = self._node("expval", lambda: qml.expval(self.cost_spec.observable(self.wires)))
            g = reference.per_sample(node, params, with_grad=True)[1]
        elif indices is not None and len(indices) <= MAX_SHIFT_PARTIALS and self.ansatz.pauli_shift:
            idx = torch.as_tensor(indices, dtype=torch.long)
            return self._chunked(params, "forward", 2 * len(idx), lambda p: self._shift_grad(p, idx))
        else:
            g = self._chunked(params, "adjoint", 1, self._adjoint_grad)
        g = g.mul_(self.trainable.to(g.device))
        return g if indices is None else g[:, torch.as_tensor(indices, dtype=torch.long)]

    @property
    def diagonal(self) -> torch.Tensor:
        """The cost observable's eigenvalues over the computational basis, ``Tensor[2**n]``."""
        return self._diagonal

    def probabilities(self, params: torch.Tensor) -> torch.Tensor:
        """Exact computational-basis outcome probabilities ``Tensor[S, 2**n_qubits]``."""
        params = self._check(params).detach()
        if self.device != "engine":
            return reference.per_sample(self._node("probs", lambda: qml.probs(wires=self.wires), exact=True),
                                        params, with_grad=False)[0]
        if self.noise is not None:
            return self._chunked(params, "density", 1, lambda p: density.probabilities(self._density(p)))
        return self._chunked(params, "forward", 1, lambda p: torch.view_as_real(self._simulate(p)).square().sum(-1))

    # --- density-matrix mode (noise) ----------------------------------------------------

    def _density(self, params: torch.Tensor) -> torch.Tensor:
        with qml.queuing.AnnotatedQueue() as queue:
            self._qfunc(params, self.wires, self._depth)
        return density.simulate(list(queue.queue), self.wires, params.shape[0], self.dtype, params.device)

    def _density_cost(self, params: torch.Tensor) -> torch.Tensor:
        if "observable" not in self._nodes:
            self._nodes["observable"] = torch.as_tensor(
                qml.matrix(self.cost_spec.observable(self.wires), wire_order=self.wires))
        return density.expectation(self._density(params), self._nodes["observable"])

    def _density_grad(self, params: torch.Tensor) -> torch.Tensor:
        p = params.detach().requires_grad_(True)
        with torch.enable_grad():
            (g,) = torch.autograd.grad(self._density_cost(p).sum(), p)
        return g

    # --- engine path --------------------------------------------------------------------

    def _record(self, params: torch.Tensor) -> list:
        with qml.queuing.AnnotatedQueue() as queue:
            self.ansatz.qfunc(params, self.wires, self._depth)
        return list(queue.queue)

    def _simulate(self, params: torch.Tensor) -> torch.Tensor:
        return engine.simulate(self._record(params), self.wires, params.shape[0], self.dtype, params.device)

    def _adjoint_grad(self, params: torch.Tensor) -> torch.Tensor:
        p = params.detach().requires_grad_(True)
        observable = self.cost_spec.engine_observable(self.n_qubits)
        with torch.enable_grad():
            # The recording is passed without a name here, so the engine can free it once read.
            _, g = engine.adjoint_gradient(self._record(p), self.wires, p.shape[0], observable, p, self.dtype)
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
            values = self.cost_spec.expectation(self._simulate(batch))
        values = values.view(k, 2, s)
        return ((values[:, 0] - values[:, 1]) / 2).T

    def _chunked(self, params: torch.Tensor, mode: str, copies: int, fn) -> torch.Tensor:
        # A density matrix takes the memory of a 2n-qubit state, and autograd keeps one per
        # operation: about 3n per layer (rotations, entanglers, then a channel on every wire).
        step = (engine.chunk_size(2 * self.n_qubits, "forward", self.dtype, self.max_memory,
                                  copies * 3 * self.n_qubits * self._depth)
                if mode == "density" else engine.chunk_size(self.n_qubits, mode, self.dtype, self.max_memory, copies))
        if params.shape[0] <= step:
            return fn(params)
        return torch.cat([fn(params[lo: lo + step]) for lo in range(0, params.shape[0], step)])

    # --- shared -------------------------------------------------------------------------

    def _node(self, kind: str, measurement, exact: bool = False) -> Any:
        if kind not in self._nodes:
            self._nodes[kind] = reference.qnode(self._qdevice, self.device, self._qfunc, self.wires,
                                                self._depth, measurement, shots=None if exact else self.shots)
        return self._nodes[kind]

    def _check(self, params: torch.Tensor) -> torch.Tensor:
        if not isinstance(params, torch.Tensor):
            raise TypeError(f"params must be a torch.Tensor of shape [S, {self.n_params}], got {type(params).__name__}")
        if params.dim() != 2 or params.shape[1] != self.n_params:
            raise ValueError(f"params of shape {tuple(params.shape)} does not fit this model; expected "
                             f"[S, {self.n_params}]")
        return params if params.dtype == torch.float64 else params.to(torch.float64)


def circuit(ansatz: str, n_qubits: int, n_layers: int = 1, cost: str | qml.operation.Operator = "zz",
            init: str = "uniform", device: str = "engine", dtype: torch.dtype = torch.float64,
            max_memory: int = engine.DEFAULT_MAX_MEMORY, noise: noise_.Noise | str | None = None,
            shots: int | None = None, shot_seed: int = 0, topology: str | None = None,
            block_size: int = 2) -> CircuitModel:
    """A parameterized circuit with a cost, as a :class:`qcgrad.Model`.

    Parameters
    ----------
    ansatz : str
        A name in :data:`qcgrad.quantum.ANSATZE`: ``"random_pauli"`` (McClean 2018),
        ``"hardware_efficient"``, ``"strongly_entangling"``, ``"alternating_layered"``,
        ``"hva"`` or ``"tensor_product"`` (Cerezo 2021; one layer by definition, ``n_layers``
        is accepted and recorded but does not change the circuit); see
        :mod:`qcgrad.quantum.ansatze`.
    n_qubits : int
        ≥ 1 (≥ 2 for ``cost="zz"``).
    n_layers : int
        ≥ 1.
    cost : str or qml.operation.Operator
        A name in :data:`qcgrad.quantum.COSTS` with optional knobs: ``"zz"``, ``"global"``,
        ``"local"``, ``"tfim"`` / ``"tfim:h=0.5"``, ``"heisenberg"``; or a PennyLane
        observable on wires ``0..n_qubits-1`` (see :mod:`qcgrad.quantum.costs`).
    init : str
        ``"uniform"`` (U[0, 2π)), ``"small_angle"`` / ``"small_angle:sigma=0.05"``
        (N(0, σ²), σ = 0.1 by default) or ``"identity_block"`` (Grant 2019: odd layers are
        inverses of the layers before them, the circuit starts as the identity; needs an
        even ``n_layers``); see :mod:`qcgrad.quantum.inits`.
    device : str
        ``"engine"`` (batched torch engine, default) or a PennyLane device name such as
        ``"default.qubit"`` or ``"lightning.qubit"`` (reference path).
    dtype : torch.dtype
        Precision: ``torch.float64`` (complex128 states, default) or ``torch.float32``
        (complex64); the complex dtypes are accepted too.
    max_memory : int
        Bytes of state vectors per engine batch; samples are processed in chunks under it.
    noise : Noise or str, optional
        A local channel after every layer, e.g. ``"depolarizing:0.05"`` or
        ``"amplitude_damping:0.1"`` (:class:`qcgrad.quantum.noise.Noise`); the engine then
        simulates density matrices. None (default): noiseless.
    shots : int, optional
        Finite-shot parameter-shift gradients with this many shots per shifted circuit.
        None (default): exact gradients.
    shot_seed : int
        Seed of the engine's shot sampling (the shots also depend on the parameters, so
        results do not depend on batch order).
    topology : str, optional
        Entangler topology ``"chain"``, ``"ring"`` or ``"all"`` for ``random_pauli``,
        ``hardware_efficient`` and ``hva`` (default chain).
    block_size : int
        Qubits per block of ``alternating_layered`` (even, 2 ≤ m ≤ n_qubits; default 2).

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
    cost_spec = make_cost(cost)
    if not isinstance(device, str):
        raise TypeError(f"device={device!r} must be 'engine' or a PennyLane device name")
    check_int(n_qubits=n_qubits, n_layers=n_layers, max_memory=max_memory)
    cost_spec.check(n_qubits)
    bound = ANSATZ_SPECS[ansatz].configure(n_qubits, n_layers, topology, block_size, init)
    engine._complex_dtype(dtype)
    check_int(0, shot_seed=shot_seed)
    return CircuitModel(bound, cost_spec, n_qubits, n_layers, init, device, dtype, max_memory,
                        noise=noise_.parse_noise(noise), shots=shots_.check_shots(shots), shot_seed=shot_seed)
