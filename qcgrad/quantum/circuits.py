"""Parameterized circuits as qcgrad Models: ``circuit(ansatz, n_qubits, n_layers, cost, ...)``."""
from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from typing import Any

import pennylane as qml
import torch

from ..model import Model
from ..validation import check_int
from . import density, engine, mps, reference, user
from . import lightcone as lightcone_
from . import noise as noise_
from . import shots as shots_
from .ansatze import ANSATZ_SPECS, Ansatz
from .costs import Cost, make_cost

#: At most this many partials go through parameter shift (2k forward passes); more use the
#: adjoint method (about four forward passes' worth of work for all partials).
MAX_SHIFT_PARTIALS = 2
#: Bound on the rounding noise of an exactly-zero partial, in units of eps(dtype) × the cost's
#: coefficient 1-norm (:meth:`CircuitModel.gradient_tolerance`). The adjoint method forms each
#: partial locally, 2 Re⟨λ|∂U|ψ⟩ at its gate, so the noise does not grow with depth: measured
#: ≤ 1.05 eps for zero partials (light cone and RZ-before-Z) of random_pauli/zz with n = 4..10,
#: L = 20..1000, in float64 and float32. The margin of ~100 covers cancellation across the cost's
#: terms (one eps each, hence the 1-norm) and a parameter's several uses summed by autograd,
#: while staying below live partials: 2.8e-14 in float64, 1.5e-5 in float32 for ‖O‖₁ = 1.
ROUNDING_EPS = 128
#: Batch layouts whose compiled circuit a model keeps (see ``CircuitModel._program``).
MAX_PROGRAMS = 4


#: PennyLane state-vector simulators: they cannot apply noise channels (``default.mixed`` can).
PURE_STATE_DEVICES = ("default.qubit", "lightning.qubit", "lightning.gpu", "lightning.kokkos", "default.tensor")


class CircuitModel(Model):
    """A parameterized quantum circuit with a cost observable, as a :class:`qcgrad.Model`.

    Build it with :func:`circuit` or :func:`qcgrad.quantum.from_qnode`. ``params`` rows hold
    the ansatz's flat parameter vector (for ``random_pauli`` the angles, then the frozen gate
    codes; for a user circuit its angles, then its frozen structure).

    ``device="engine"`` runs the batched torch engine (``qcgrad.quantum.engine``):
    :meth:`cost` and :meth:`state` are differentiable by torch autograd, :meth:`grad` uses
    batched parameter shift for up to ``MAX_SHIFT_PARTIALS`` requested partials and the
    adjoint method otherwise. Any other ``device`` (a name, opened with ``device_options``, or
    a device instance) is a PennyLane device run sample by sample (the reference path).

    ``noise`` (a :class:`qcgrad.quantum.noise.Noise`) puts a local channel on every qubit after
    every layer: the engine then runs the batched density-matrix mode
    (:mod:`qcgrad.quantum.density`) and differentiates by autograd; reference devices must
    support channels (``default.mixed``). ``shots`` makes :meth:`grad` a finite-shot
    parameter-shift estimate (engine: seeded sampling from exact probabilities, see
    :mod:`qcgrad.quantum.shots`; reference devices: the device's own sampling).
    """

    def __init__(self, ansatz: Ansatz | user.UserCircuit, cost: Cost, n_qubits: int, n_layers: int, init: str,
                 device: Any, dtype: torch.dtype, max_memory: int, noise: noise_.Noise | None = None,
                 shots: int | None = None, shot_seed: int = 0, device_options: dict[str, Any] | None = None,
                 lightcone: bool | str = "auto") -> None:
        self.ansatz, self.cost_spec, self.lightcone = ansatz, cost, lightcone
        self.n_qubits, self.n_layers, self.init = n_qubits, n_layers, init
        # self.device is the name ("engine", "qiskit.aer", ...); an opened device is kept in _qdevice.
        self.device = device if isinstance(device, str) else device.name
        self.dtype, self.max_memory, self.device_options = dtype, max_memory, device_options
        self.wires = list(range(n_qubits))
        depth = ansatz.fixed_layers or n_layers
        self.n_params = ansatz.shape(n_qubits, depth)
        self.param_groups = ansatz.groups(n_qubits, depth)
        self.frozen = ansatz.frozen
        self._depth = depth
        self._nodes: dict[str, Any] = {}
        self.noise, self.shots, self.shot_seed = noise, shots, shot_seed
        if shots is not None and device == "engine" and self.diagonal is None:
            raise ValueError(f"shots={shots} on the engine samples computational-basis outcomes, but "
                             f"cost={cost.name!r} is not diagonal; use a diagonal cost or a PennyLane device")
        self._qfunc = ansatz.qfunc if noise is None else noise_.with_noise(ansatz.qfunc, noise)
        if noise is not None and depth > 1:
            found = noise_.count_layers(ansatz.qfunc, self.sample_params(torch.Generator().manual_seed(0), 1),
                                        self.wires, depth)
            if found != depth:
                raise ValueError(f"ansatz={ansatz.name!r} marks {found} layer(s) with qml.Barrier but has "
                                 f"{depth}; noise after every layer needs one Barrier per layer")
        if noise is not None and self.device in PURE_STATE_DEVICES:
            raise ValueError(f"noise={noise.kind}:{noise.p} needs a device that simulates channels, but "
                             f"device={self.device!r} simulates pure states; use device='default.mixed', or the "
                             "default 'engine' (which then runs density matrices)")
        if self.device != "engine":
            self._qdevice = reference.open_device(device, n_qubits, device_options)

    # --- Model interface ----------------------------------------------------------------

    def sample_params(self, generator: torch.Generator, n: int) -> torch.Tensor:
        """``Tensor[n, n_params]`` from the ``init`` distribution (and random gate codes)."""
        return self.ansatz.sample(generator, n, self.n_qubits, self._depth, self.init)

    def describe(self) -> dict[str, Any]:
        knobs = {"family": "quantum", "ansatz": self.ansatz.name, "n_qubits": self.n_qubits,
                 "n_layers": self.n_layers, "cost": self.cost_spec.name, "init": self.init,
                 **self.ansatz.knobs(),
                 "device": self.device}
        if self.device_options:  # values kept as JSON scalars; objects (a noise model) by type name
            knobs["device_options"] = {k: v if isinstance(v, (bool, int, float, str)) else type(v).__name__
                                       for k, v in self.device_options.items()}
        # Only when set, so noiseless exact models describe themselves as before.
        if self.noise is not None:
            knobs["noise"] = f"{self.noise.kind}:{self.noise.p}"
        if self.shots is not None:
            knobs["shots"] = self.shots
        if self.lightcone is not False and (plan := self._cone_plan()) is not None:
            knobs["lightcone"] = plan.summary
        return knobs

    def cost(self, params: torch.Tensor) -> torch.Tensor:
        """⟨H⟩ per sample, ``Tensor[S, n_params] -> Tensor[S]`` (differentiable)."""
        params = self._check(params)
        if self.device != "engine":
            node = self._node("expval", lambda: qml.expval(self.cost_spec.observable(self.wires)))
            return reference.per_sample(node, params, with_grad=False)[0]
        if self.noise is not None:
            return self._chunked(params, "density", 1, self._density_cost)
        if (plan := self._cone_plan()) is not None:
            return lightcone_.model_cost(self, plan, params)
        return self._chunked(params, "forward", 1,
                             lambda p: self.cost_spec.expectation(self._simulate(p)))

    def state(self, params: torch.Tensor) -> torch.Tensor:
        """Final state vectors ``Tensor[S, 2**n_qubits]`` (complex), wire 0 most significant.

        On the engine path the result is differentiable by torch autograd with respect to
        ``params`` (backpropagation through the states: memory grows with depth), e.g. for
        the Fubini–Study metric of quantum natural gradient. A noisy circuit has no state vector:
        it raises rather than return the noiseless state.
        """
        if self.noise is not None:
            raise ValueError(f"noise={self.noise.kind}:{self.noise.p} makes the state mixed, so it has no state "
                             "vector; use qcgrad.optim.mixed_state_metric for its geometry, or its cost and gradients")
        params = self._check(params)
        if self.device != "engine":
            return reference.per_sample(self._node("state", qml.state), params, with_grad=False)[0]
        return self._chunked(params, "forward", 1, self._simulate)

    def grad(self, params: torch.Tensor, indices: torch.Tensor | None = None) -> torch.Tensor:
        """Per-sample gradients ``Tensor[S, n_params]`` (or ``[S, k]`` for ``indices``).

        Frozen groups get zero. Engine: by light cones when the cost is a sum of local terms
        and that pays (``lightcone=``), or by the exact MPS route (``qcgrad.quantum.mps``),
        else parameter shift in one batched forward pass when at most ``MAX_SHIFT_PARTIALS``
        partials are requested and the ansatz allows it, otherwise the adjoint method.
        Reference devices: the device's own method.
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
            g = typing.cast(torch.Tensor, reference.per_sample(node, params, with_grad=True)[1])
        elif (plan := self._cone_plan()) is not None:
            g = lightcone_.model_grad(self, plan, params)
        elif indices is not None and len(indices) <= MAX_SHIFT_PARTIALS and self.ansatz.pauli_shift:
            idx = torch.as_tensor(indices, dtype=torch.long)
            return self._chunked(params, "forward", 2 * len(idx), lambda p: self._shift_grad(p, idx))
        else:
            # The masking too under the adjoint pass's thread cap: on a few qubits it would
            # otherwise wake a second thread, which stalls on a shared machine.
            with engine._cpu_threads(2 * params.shape[0] << self.n_qubits, params.device):
                return self._masked(self._chunked(params, "adjoint", 1, self._adjoint_grad), indices)
        return self._masked(g, indices)

    def _masked(self, g: torch.Tensor, indices: torch.Tensor | None) -> torch.Tensor:
        """Zero partials of the frozen groups; the ``indices`` columns when given."""
        g = g.mul_(self.trainable.to(g.device))
        return g if indices is None else g[:, torch.as_tensor(indices, dtype=torch.long)]

    def _cone_plan(self) -> lightcone_.Plan | mps.MpsPlan | None:
        """The light-cone plan the engine runs, or None for the full state (cached)."""
        if "lightcone" not in self._nodes:
            self._nodes["lightcone"] = lightcone_.use_lightcone(self, self.lightcone)
        return self._nodes["lightcone"]

    @property
    def diagonal(self) -> torch.Tensor | None:
        """The cost observable's eigenvalues over the computational basis, ``Tensor[2**n]``
        (None when the cost is not diagonal); built on first use, so a model of many qubits
        allocates nothing of size 2^n until it is run."""
        if "diagonal" not in self._nodes:
            self._nodes["diagonal"] = self.cost_spec.diagonal(self.n_qubits)
        return self._nodes["diagonal"]

    def structural_zeros(self) -> torch.Tensor | None:
        """Bool mask ``[n_params]`` of partials that are zero for every parameter value (outside
        the backward light cone of every term of the cost), from
        ``qcgrad.quantum.lightcone.dead_parameters``."""
        if "dead" not in self._nodes:  # a property of the circuit, not of the parameters: once per model
            self._nodes["dead"] = lightcone_.dead_parameters(self)
        return self._nodes["dead"]

    def gradient_tolerance(self) -> float:
        """Absolute size below which a computed partial is rounding noise of an exact zero:
        ``ROUNDING_EPS`` × eps(dtype) × the cost's coefficient 1-norm (Σ|c_t| over its terms;
        each term's operator norm bounds its share of ``|∂C|``)."""
        if "norm" not in self._nodes:
            self._nodes["norm"] = coefficient_norm(self.cost_spec.observable(self.wires))
        return ROUNDING_EPS * torch.finfo(engine._complex_dtype(self.dtype)[1]).eps * self._nodes["norm"]

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

    def _program(self, params: torch.Tensor) -> engine.Program:
        """The circuit compiled for the engine from ``params``; kept per batch layout when it
        holds the layout only (:attr:`engine.Program.reusable`) and the ansatz reads its
        parameters as views only (``rebind``), so later calls neither record nor compile."""
        key = (tuple(params.shape), params.stride(), params.dtype, str(params.device))
        programs = self._nodes.setdefault("programs", {})
        if key in programs:
            return programs[key]
        # The recording is passed without a name here, so the engine can free it once read.
        program = engine.compile_ops(self._record(params), self.wires, params.shape[0], self.dtype, params.device,
                                     source=params)
        if program.reusable and self.ansatz.rebind:
            if len(programs) >= MAX_PROGRAMS:  # batch layouts seen (chunks): keep the latest
                del programs[next(iter(programs))]
            programs[key] = program
        return program

    def _adjoint_grad(self, params: torch.Tensor) -> torch.Tensor:
        p = params.detach().requires_grad_(True)
        observable = self.cost_spec.engine_observable(self.n_qubits)
        with torch.enable_grad():
            _, g = engine.adjoint_gradient(self._program(p), self.wires, p.shape[0], observable, p, self.dtype)
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


def circuit(ansatz: str | Callable[..., Any], n_qubits: int, n_layers: int | None = None,
            cost: str | qml.operation.Operator = "zz", init: str = "uniform", device: Any = "engine",
            dtype: torch.dtype = torch.float64, max_memory: int = engine.DEFAULT_MAX_MEMORY,
            noise: noise_.Noise | str | None = None, shots: int | None = None, shot_seed: int = 0,
            topology: str | None = None, block_size: int = 2, *, angles_per_layer: int | None = None,
            shape: tuple[int, ...] | None = None,
            structure: Callable[[torch.Generator, int], torch.Tensor] | None = None,
            state_prep: Callable[[list], Any] | None = None,
            device_options: dict[str, Any] | None = None, lightcone: bool | str = "auto") -> CircuitModel:
    """A parameterized circuit with a cost, as a :class:`qcgrad.Model`.

    Parameters
    ----------
    ansatz : str or Callable
        A name in ``qcgrad.quantum.ANSATZE``: ``"random_pauli"`` (McClean 2018),
        ``"hardware_efficient"``, ``"strongly_entangling"``, ``"alternating_layered"``,
        ``"hva"`` or ``"tensor_product"`` (Cerezo 2021; one layer by definition, ``n_layers``
        is accepted and recorded but does not change the circuit); see
        ``qcgrad.quantum.ansatze``. Or the user's PennyLane quantum function for ONE
        sample (``qcgrad.quantum.user``): ``layer(angles, wires)`` with
        ``angles_per_layer`` (layer form), or ``qfunc(params, wires)`` with ``shape``
        (whole-circuit form); qcgrad batches it.
    n_qubits : int
        ≥ 1 (≥ 2 for ``cost="zz"``).
    n_layers : int, optional
        ≥ 1 (default 1 for a name); the layer form needs it, the whole-circuit form reads it
        from ``shape[0]``.
    cost : str or qml.operation.Operator
        A name in ``qcgrad.quantum.COSTS`` with optional knobs: ``"zz"``, ``"global"``,
        ``"local"``, ``"tfim"`` / ``"tfim:h=0.5"``, ``"heisenberg"``; or a PennyLane
        observable on wires ``0..n_qubits-1`` (see ``qcgrad.quantum.costs``).
    init : str
        ``"uniform"`` (U[0, 2π)), ``"small_angle"`` / ``"small_angle:sigma=0.05"``
        (N(0, σ²), σ = 0.1 by default) or ``"identity_block"`` (Grant 2019: odd layers are
        inverses of the layers before them, the circuit starts as the identity; needs an
        even ``n_layers``); see ``qcgrad.quantum.inits``.
    device : str or qml.devices.Device
        ``"engine"`` (batched torch engine, default), a PennyLane device name such as
        ``"default.qubit"``, ``"lightning.qubit"`` or ``"qiskit.aer"``, or an opened PennyLane
        device (reference path, one execution per sample).
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
    angles_per_layer : int, optional
        Layer form of a function ``ansatz``: angles each layer reads (``angles[0..a-1]``).
    shape : tuple[int, ...], optional
        Whole-circuit form of a function ``ansatz``: one sample's parameter shape
        (groups ``"layer:k"`` along ``shape[0]``).
    structure : Callable, optional
        ``(generator, n_samples) -> Tensor[n_samples, ...]``: frozen per-sample structure
        (group ``"structure"``) passed to a function ``ansatz`` as its second argument; in
        the layer form ``[n_samples, n_layers, ...]``, layer k gets row k.
    state_prep : Callable, optional
        ``state_prep(wires)``: fixed gates queued before the circuit.
    device_options : dict, optional
        Keyword arguments of ``qml.device`` for a device name (``backend=``,
        ``noise_model=``, ``seed=``, ...).
    lightcone : {"auto", True, False}
        Exact shortcuts for a cost that is a sum of Pauli terms. Light cones
        (``qcgrad.quantum.lightcone``): each term simulated on the qubits of its backward light
        cone only. The MPS route (``qcgrad.quantum.mps``), for cones that are wide on a circuit
        whose cuts are thin (a CNOT staircase): an exact matrix product state, each two-qubit
        gate applied as an MPO without truncation (bonds 2^L for ``hardware_efficient`` on a
        chain, 4^L on a ring; one- and two-qubit gates only). ``"auto"`` (default) runs cones
        when they hold fewer than half the full state's amplitudes, else the MPS route when its
        estimated work is below the state-vector adjoint pass's and one sample fits
        ``max_memory``, else the full engine (always the full engine up to 6 qubits). True:
        cones when they pay, else the MPS route when it applies and fits, else cones wherever
        the cost splits (a warning and the full engine otherwise). False: the full engine.
        ``describe()["lightcone"]`` names the route (``"cones of <= 4 qubits"``,
        ``"mps, bond <= 16"``).

    Returns
    -------
    CircuitModel

    Examples
    --------
    >>> import qcgrad as qg, torch
    >>> qc = qg.quantum.circuit("tensor_product", n_qubits=2, cost="local")
    >>> qc.cost(torch.zeros(1, 2)).tolist()
    [0.0]
    >>> import pennylane as qml
    >>> def layer(angles, wires):  # one sample: angles is Tensor[2]
    ...     qml.RY(angles[0], wires=wires[0]); qml.RY(angles[1], wires=wires[1]); qml.CZ(wires=wires[:2])
    >>> mine = qg.quantum.circuit(layer, n_qubits=2, n_layers=3, angles_per_layer=2, cost="zz")
    >>> mine.n_params, mine.describe()["ansatz"], list(mine.param_groups)[-1]
    (6, 'layer', 'layer:2')
    """
    named = isinstance(ansatz, str)
    if not isinstance(ansatz, str) and (isinstance(ansatz, qml.QNode) or not callable(ansatz)):
        hint = "a QNode becomes a model through qcgrad.quantum.from_qnode" if callable(ansatz) else \
            f"use a name in {sorted(ANSATZ_SPECS)} or a quantum function"
        raise TypeError(f"ansatz={ansatz!r}: {hint}")
    if isinstance(ansatz, str) and ansatz not in ANSATZ_SPECS:
        raise ValueError(f"ansatz={ansatz!r} is not known; use one of {sorted(ANSATZ_SPECS)} or a quantum function")
    if named:
        extra = {k: v for k, v in (("angles_per_layer", angles_per_layer), ("shape", shape), ("structure", structure))
                 if v is not None}
        if extra:
            raise ValueError(f"{', '.join(extra)} apply to a function ansatz; ansatz={ansatz!r} fixes its own layout")
        n_layers = 1 if n_layers is None else n_layers
    elif topology is not None or block_size != 2:
        raise ValueError(f"topology={topology!r} / block_size={block_size!r} apply to built-in ansätze; "
                         "a function ansatz places its own gates")
    if state_prep is not None and not callable(state_prep):
        raise TypeError(f"state_prep={state_prep!r} must be a function state_prep(wires)")
    cost_spec = make_cost(cost)
    if not isinstance(device, (str, qml.devices.Device)):
        raise TypeError(f"device={device!r} must be 'engine', a PennyLane device name or a PennyLane device")
    if lightcone not in (True, False, "auto"):
        raise ValueError(f"lightcone={lightcone!r} is not allowed; use 'auto', True or False")
    if device == "engine" and device_options:
        raise ValueError(f"device_options={device_options!r} apply to PennyLane devices; the engine takes none")
    check_int(n_qubits=n_qubits, max_memory=max_memory)
    if named or n_layers is not None:
        check_int(n_layers=n_layers)
    cost_spec.check(n_qubits)
    engine._complex_dtype(dtype)
    check_int(0, shot_seed=shot_seed)
    bound: Ansatz | user.UserCircuit
    if isinstance(ansatz, str):
        depth = 1 if n_layers is None else n_layers
        bound = ANSATZ_SPECS[ansatz].configure(n_qubits, depth, topology, block_size, init)
        if state_prep is not None:
            bound = dataclasses.replace(bound, prefix=_chain(state_prep, bound.prefix))
    else:
        bound = user.user_ansatz(ansatz, n_qubits, n_layers, angles_per_layer, shape, structure, state_prep, init,
                                 batched=device == "engine")
        depth = bound.fixed_layers
    return CircuitModel(bound, cost_spec, n_qubits, depth, init, device, dtype, max_memory,
                        noise=noise_.parse_noise(noise), shots=shots_.check_shots(shots), shot_seed=shot_seed,
                        device_options=device_options, lightcone=lightcone)


def coefficient_norm(observable: qml.operation.Operator) -> float:
    """Σ_t |c_t|·‖O_t‖ over the terms of ``observable`` as written: Pauli words count 1 (their
    Pauli coefficients' 1-norm in general), projectors 1, other terms their spectral radius.

    Examples
    --------
    >>> coefficient_norm(qml.Hamiltonian([0.5, -2.0], [qml.Z(0), qml.X(0) @ qml.X(1)]))
    2.5
    """
    try:
        coeffs, ops = observable.terms()
    except qml.operation.TermsUndefinedError:
        coeffs, ops = [1.0], [observable]
    total = 0.0
    for c, op in zip(coeffs, ops, strict=True):
        if op.pauli_rep is not None:
            norm = sum(abs(v) for v in op.pauli_rep.values())
        elif isinstance(op, qml.Projector):
            norm = 1.0
        else:
            norm = float(abs(torch.as_tensor(qml.eigvals(op))).max())
        total += abs(complex(c)) * norm
    return total


def _chain(first: Callable[[list], Any], then: Callable[[list], Any] | None) -> Callable[[list], None]:
    """A prefix that queues ``first(wires)`` and then the ansatz's own prefix."""

    def prefix(wires: list) -> None:
        first(wires)
        if then is not None:
            then(wires)

    return prefix
