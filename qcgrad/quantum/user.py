"""User circuits: a PennyLane quantum function written for ONE sample, batched by qcgrad.

Three forms reach :func:`qcgrad.quantum.circuit` (and :func:`from_qnode`):

- layer form, ``layer(angles, wires)``: queues one layer; ``angles`` is that layer's
  ``Tensor[angles_per_layer]``. The circuit is ``n_layers`` layers, groups ``"layer:k"``, and
  the identity-block init works (odd layers are queued as the inverse of their gates).
- whole-circuit form, ``qfunc(params, wires)``: reads ``params[l, j]`` of a ``Tensor[shape]``;
  groups ``"layer:k"`` along the leading axis.
- a QNode returning one ``qml.expval``: its observable is the cost (:func:`from_qnode`).

With ``structure=`` a function ``(generator, n_samples) -> Tensor[n_samples, ...]`` is drawn
with each sample (frozen group ``"structure"``) and passed as the second argument:
``layer(angles, structure, wires)`` gets its layer's row ``structure[k]``.

The engine simulates S samples in one pass, so the function is recorded ONCE with a leading
sample axis: qcgrad hands it a :class:`PerSample` tensor, which indexes, slices, iterates and
reshapes as the one-sample tensor the user wrote for (``angles[j]`` is the ``Tensor[S]`` of
angle j in every sample, a plain column of the parameters). PennyLane operations broadcast
over that axis, templates included. On PennyLane devices (the reference path) the function
gets plain one-sample tensors. When the gates read the parameters only as views (no
arithmetic), the batched recording is made once per batch layout and replayed on new
parameters, so PennyLane builds each gate once (a check at construction confirms that a
replay equals a fresh recording); randomness belongs in ``structure=``, not in the function.

Every circuit is checked once at construction on a small batch: it must queue gates only,
read every parameter of its declared size and nothing past it, return nothing, and use
operations the engine can simulate (a matrix on ≤ 3 wires, or a decomposition into such).
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import autoray
import pennylane as qml
import torch

from .inits import MIRRORED, draw_angles, mirror_layers, parse_init

#: Samples in the construction-time check (odd and small, so that a sample axis that leaks into
#: per-sample arithmetic fails there rather than broadcasting by accident).
PROBE_SAMPLES = 3
#: Batch layouts whose recording a user circuit keeps for replay (see ``UserCircuit.rebind``).
MAX_RECORDINGS = 8
#: Gates exp(−iθP/2) of one Pauli word P per parameter: ∂U = ½U(θ + π), the two-term shift rule.
PAULI_ROTATIONS = frozenset({"RX", "RY", "RZ", "Rot", "PauliRot", "MultiRZ", "IsingXX", "IsingYY", "IsingZZ",
                             "AxisRotation"})


class PerSample(torch.Tensor):
    """A batch of per-sample tensors: axis 0 is the sample axis, hidden from indexing.

    ``x[i]``, ``x[i, j]``, ``x[a:b]``, ``len(x)``, iteration, ``reshape``/``view``,
    ``unflatten`` and ``flatten`` act on one sample's axes; an index that leaves one number
    per sample returns a plain ``Tensor[S]``. ``x.shape`` keeps the sample axis (PennyLane
    reads it to broadcast), and elementwise arithmetic works as on any tensor.

    Examples
    --------
    >>> x = torch.arange(6.0).reshape(2, 3).as_subclass(PerSample)  # two samples of Tensor[3]
    >>> x[2], len(x), x[1:].shape
    (tensor([2., 5.]), 3, torch.Size([2, 2]))
    """

    def __getitem__(self, index: Any) -> torch.Tensor:
        # Fast path, the common read angles[j] / params[l, j]: the columns, split once per tensor.
        if type(index) is int:
            columns, shape = self.__dict__.get("_split") or self._columns()
            if len(shape) == 1 and -shape[0] <= index < shape[0]:
                return columns[index]
        elif type(index) is tuple and all(type(i) is int for i in index):
            columns, shape = self.__dict__.get("_split") or self._columns()
            if len(index) == len(shape) and all(-m <= i < m for i, m in zip(index, shape, strict=True)):
                flat = sum(i % m * math.prod(shape[k + 1:]) for k, (i, m) in enumerate(zip(index, shape, strict=True)))
                return columns[flat]
        index = index if isinstance(index, tuple) else (index,)
        with torch._C.DisableTorchFunctionSubclass():
            out = torch.Tensor.__getitem__(self, (slice(None), *index))
        return out if out.dim() <= 1 else out.as_subclass(PerSample)

    def _columns(self) -> tuple[tuple[torch.Tensor, ...], tuple[int, ...]]:
        """Every per-sample entry as a plain ``Tensor[S]`` (views where the layout allows)."""
        cached = self.__dict__.get("_split")
        if cached is None:
            with torch._C.DisableTorchFunctionSubclass():
                flat = torch.Tensor.reshape(self, self.shape[0], -1)
                cached = self.__dict__["_split"] = (flat.unbind(1), tuple(self.shape[1:]))
        return cached

    def __len__(self) -> int:
        return self.shape[1]

    def __iter__(self):
        return (self[i] for i in range(self.shape[1]))

    def reshape(self, *shape: Any) -> torch.Tensor:
        """Reshape each sample to ``shape`` (the sample axis stays first)."""
        return super().reshape(self.shape[0], *_sizes(shape))

    def view(self, *shape: Any) -> torch.Tensor:
        """View each sample as ``shape`` (the sample axis stays first)."""
        return super().view(self.shape[0], *_sizes(shape))

    def unflatten(self, dim: int, sizes: Any) -> torch.Tensor:
        """Unflatten axis ``dim`` of each sample into ``sizes``."""
        return super().unflatten(dim + 1 if dim >= 0 else dim, sizes)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> torch.Tensor:
        """Flatten axes ``start_dim..end_dim`` of each sample."""
        return super().flatten(start_dim + 1 if start_dim >= 0 else start_dim, end_dim + 1 if end_dim >= 0 else end_dim)

    def __repr__(self, *, tensor_contents: Any = None) -> str:  # type: ignore[override]
        return f"PerSample(samples={self.shape[0]}, {self.as_subclass(torch.Tensor)!r})"


# PennyLane's math dispatch names the backend after the tensor's module; this one is torch.
autoray.register_backend(PerSample, "torch")


class UserCircuitError(ValueError):
    """A user circuit that qcgrad cannot run, found while recording it."""


def _sizes(shape: tuple) -> tuple:
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list, torch.Size)) else shape


def _plain(value: Any) -> Any:
    return value.as_subclass(torch.Tensor) if isinstance(value, PerSample) else value


@dataclass(frozen=True)
class UserCircuit:
    """A user's quantum function as an ansatz of :class:`qcgrad.quantum.CircuitModel`.

    Build it with :func:`user_ansatz`. The flat parameter vector is the angles (layer-major:
    ``n_layers × angles_per_layer``, or ``shape`` flattened), then the frozen structure.

    Attributes
    ----------
    fn : Callable
        The user's function.
    name : str
        Its ``__name__``, recorded as the model's ansatz.
    form : str
        ``"layer"`` or ``"whole"``.
    angle_shape : tuple[int, ...]
        One sample's angles: ``(n_layers, angles_per_layer)`` or ``shape``.
    structure_fn : Callable or None
        ``(generator, n_samples) -> Tensor[n_samples, *structure_shape]``.
    structure_shape : tuple[int, ...]
    state_prep : Callable or None
        ``state_prep(wires)``, queued before the circuit.
    mirror : bool
        Layer form with the identity-block init: odd layers queued as inverses.
    pauli_shift : bool
        Every angle is read exactly once, unchanged, by a Pauli rotation exp(∓iθP/2)
        (:data:`PAULI_ROTATIONS`), so the two-term shift rule is exact (found by
        :func:`check_recording`).
    rebind : bool
        The gates read the parameters only as views (``angles[j]``, slices, reshapes): a
        batched recording re-bound to new parameters equals a fresh one (checked by
        :func:`check_recording`), so it is recorded once per batch layout and replayed —
        PennyLane builds each gate once, not on every call.
    """

    fn: Callable[..., Any]
    name: str
    form: str
    angle_shape: tuple[int, ...]
    structure_fn: Callable[[torch.Generator, int], torch.Tensor] | None = None
    structure_shape: tuple[int, ...] = ()
    state_prep: Callable[[list], Any] | None = None
    mirror: bool = False
    pauli_shift: bool = False
    rebind: bool = False
    _recordings: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    # --- the ansatz protocol of CircuitModel --------------------------------------------

    @property
    def fixed_layers(self) -> int:
        return self.angle_shape[0]

    @property
    def n_angles(self) -> int:
        return math.prod(self.angle_shape)

    def shape(self, n_qubits: int, n_layers: int) -> int:
        """Length of the flat parameter vector."""
        return self.n_angles + math.prod(self.structure_shape) * (self.structure_fn is not None)

    def groups(self, n_qubits: int, n_layers: int) -> dict[str, slice]:
        """``"layer:k"`` along the angles' leading axis, and ``"structure"`` when drawn."""
        per = self.n_angles // self.angle_shape[0]
        groups = {f"layer:{k}": slice(k * per, (k + 1) * per) for k in range(self.angle_shape[0])}
        if self.structure_fn is not None:
            groups["structure"] = slice(self.n_angles, self.shape(n_qubits, n_layers))
        return groups

    @property
    def frozen(self) -> tuple[str, ...]:
        return ("structure",) if self.structure_fn is not None else ()

    def knobs(self) -> dict[str, Any]:
        """The shape knobs: ``angles_per_layer`` or ``shape``, and the structure's shape."""
        knobs: dict[str, Any] = ({"angles_per_layer": self.angle_shape[1]} if self.form == "layer"
                                 else {"shape": list(self.angle_shape)})
        if self.structure_fn is not None:
            knobs["structure"] = list(self.structure_shape)
        return knobs

    def sample(self, gen: torch.Generator, n_samples: int, n_qubits: int, n_layers: int, init: str) -> torch.Tensor:
        """``Tensor[n_samples, n_params]``: angles from ``init``, then the drawn structure."""
        parts = [draw_angles(init, gen, (n_samples, self.n_angles))]
        if self.structure_fn is not None:
            parts.append(self._draw_structure(gen, n_samples).flatten(1))
        params = torch.cat(parts, dim=1)
        if self.mirror:
            params = mirror_layers(params, self._layer_index, self.angle_shape[0])
        return params

    def qfunc(self, params: torch.Tensor, wires: list, n_layers: int | None = None) -> None:
        """Queue the circuit for ``params[..., n_params]``: one sample (a vector, the reference
        path) or a batch (``[S, n_params]``, recorded once with a :class:`PerSample` view; with
        ``rebind`` the first recording of a batch layout is replayed on new parameters)."""
        if params.dim() == 2 and self.rebind:
            key = (tuple(params.shape), params.stride(), params.dtype, str(params.device), tuple(wires))
            if key in self._recordings:
                source, ops = self._recordings[key]
                for op in ops:
                    qml.QueuingManager.append(_rebound(op, source, params, self.n_angles))
                return
            with qml.queuing.AnnotatedQueue() as queue:
                self._record(params, wires)
            if len(self._recordings) >= MAX_RECORDINGS:  # batch layouts seen (chunks, shifts): keep the latest
                del self._recordings[next(iter(self._recordings))]
            self._recordings[key] = (params, list(queue.queue))
            for op in queue.queue:
                qml.QueuingManager.append(op)
            return
        self._record(params, wires)

    def _record(self, params: torch.Tensor, wires: list) -> None:
        batched = params.dim() == 2
        lead = params.shape[:-1]
        angles = params[..., :self.n_angles].reshape(*lead, *self.angle_shape)
        structure = (params[..., self.n_angles:].detach().reshape(*lead, *self.structure_shape)
                     if self.structure_fn is not None else None)
        if batched:
            angles = angles.as_subclass(PerSample)
            structure = None if structure is None else structure.as_subclass(PerSample)
        if self.state_prep is not None:
            self.state_prep(wires)
        if self.form == "whole":
            self._call(batched, angles, structure, wires)
            return
        for k in range(self.angle_shape[0]):
            row = None if structure is None else structure[k]
            if self.mirror and k % 2 == 1:
                _queue_inverse(functools.partial(self._call, batched, angles[k], row, wires))
            else:
                self._call(batched, angles[k], row, wires)
            qml.Barrier(wires=wires)

    # --- internals ----------------------------------------------------------------------

    def _call(self, batched: bool, angles: torch.Tensor, structure: torch.Tensor | None, wires: list) -> None:
        args = (angles, wires) if self.structure_fn is None else (angles, structure, wires)
        context = qml.QueuingManager.active_context()
        before = len(context) if batched and isinstance(context, qml.queuing.AnnotatedQueue) else None
        returned = self.fn(*args)
        if before is not None:  # the engine gets plain tensors (views of params), never PerSample
            for key in itertools.islice(reversed(context), len(context) - before):
                op = key.obj
                if isinstance(op, qml.operation.Operator) and any(isinstance(d, PerSample) for d in op.data):
                    op.data = tuple(_plain(d) for d in op.data)
        if returned is not None:
            raise UserCircuitError(f"{self.name} returned {_short(returned)}; a circuit function queues gates "
                                   "and returns None (the cost is cost=...; a function ending in qml.expval is a "
                                   "QNode's: use qcgrad.quantum.from_qnode)")

    def _draw_structure(self, gen: torch.Generator, n_samples: int) -> torch.Tensor:
        if self.structure_fn is None:
            raise ValueError(f"{self.name} has no structure= function to draw")
        drawn = self.structure_fn(gen, n_samples)
        if not isinstance(drawn, torch.Tensor) or drawn.dim() < 1 or drawn.shape[0] != n_samples:
            raise ValueError(f"structure(generator, n_samples={n_samples}) returned {_short(drawn)}; it must "
                             f"return a Tensor[n_samples, ...]")
        return drawn.detach().to(torch.float64)

    def _layer_index(self, k: int) -> torch.Tensor:
        per = self.n_angles // self.angle_shape[0]
        index = torch.arange(k * per, (k + 1) * per)
        if self.structure_fn is None:
            return index
        s = math.prod(self.structure_shape[1:])
        return torch.cat([index, self.n_angles + torch.arange(k * s, (k + 1) * s)])


def _rebound(op: Any, source: torch.Tensor, params: torch.Tensor, n_angles: int) -> Any:
    """``op`` recorded from ``source`` with its views of ``source`` taken from ``params`` instead
    (same layout); structure views stay detached. Ops without such views are shared."""
    data, found = [], False
    source_ptr = source.untyped_storage().data_ptr()
    for d in op.data:
        if isinstance(d, torch.Tensor) and d.dim() and d.untyped_storage().data_ptr() == source_ptr:
            offset = d.storage_offset() - source.storage_offset()
            d = params.as_strided(d.shape, d.stride(), params.storage_offset() + offset)
            d = d.detach() if offset % source.stride(0) >= n_angles else d
            found = True
        data.append(d)
    if not found:
        return op
    twin = copy.copy(op)
    twin.data = tuple(data)
    return twin


def _same_recording(left: list, right: list) -> bool:
    """Whether two recordings queue the same gates on the same wires with equal parameters."""
    def same(a: Any, b: Any) -> bool:
        if isinstance(a, qml.operation.Operator) or isinstance(b, qml.operation.Operator):
            return True  # a symbolic op's base: its data are the op's data, compared there
        if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
            return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape
                    and torch.equal(a.detach(), b.detach()))
        try:
            return bool(qml.math.allequal(a, b)) if hasattr(a, "shape") else bool(a == b)
        except (TypeError, ValueError):
            return False

    if len(left) != len(right):
        return False
    for a, b in zip(left, right, strict=True):
        if type(a) is not type(b) or a.name != b.name or a.wires != b.wires or len(a.data) != len(b.data):
            return False
        if not all(same(x, y) for x, y in zip(a.data, b.data, strict=True)):
            return False
        ha, hb = a.hyperparameters, b.hyperparameters
        if ha.keys() != hb.keys() or not all(same(ha[k], hb[k]) for k in ha):
            return False
    return True


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _queue_inverse(record: Callable[[], None]) -> None:
    """Queue the inverse of the gates ``record()`` queues: each gate's adjoint, in reverse order."""
    with qml.queuing.AnnotatedQueue() as queue:
        record()
    with qml.QueuingManager.stop_recording():
        inverse = [g for op in reversed(queue.queue) for g in _inverse(op)]
    for op in inverse:
        qml.QueuingManager.append(op)


def _inverse(op: Any) -> list:
    """``op``'s inverse as gates: its own adjoint (RX(−θ), ...), else its decomposition inverted."""
    if isinstance(op, qml.Barrier):
        return [op]
    try:
        return [op.adjoint()]
    except qml.operation.AdjointUndefinedError:
        if op.has_decomposition:
            return [g for part in reversed(op.decomposition()) for g in _inverse(part)]
        return [qml.ops.Adjoint(op)]


def user_ansatz(fn: Callable[..., Any], n_qubits: int, n_layers: int | None, angles_per_layer: int | None,
                shape: tuple[int, ...] | None, structure: Callable[[torch.Generator, int], torch.Tensor] | None,
                state_prep: Callable[[list], Any] | None, init: str, batched: bool = True) -> UserCircuit:
    """A checked :class:`UserCircuit` for ``fn`` in the layer or the whole-circuit form.

    Parameters
    ----------
    fn : Callable
        ``fn(angles, wires)`` (layer form, with ``n_layers`` and ``angles_per_layer``) or
        ``fn(params, wires)`` (whole-circuit form, with ``shape``); with ``structure`` its
        second argument is the sample's structure.
    n_qubits : int
    n_layers, angles_per_layer : int or None
        Layer form; in the whole-circuit form ``n_layers`` may repeat ``shape[0]``.
    shape : tuple[int, ...] or None
        Whole-circuit form: one sample's parameter shape, e.g. ``(40, 11)``.
    structure : Callable or None
        ``(generator, n_samples) -> Tensor[n_samples, ...]`` (layer form: ``[n_samples,
        n_layers, ...]``, layer k gets ``[..., k, ...]``).
    state_prep : Callable or None
        ``state_prep(wires)``: a fixed prefix.
    init : str
        The init spec; ``"identity_block"`` needs the layer form and an even ``n_layers``.
    batched : bool
        Check the batched recording the engine runs (default), or only the per-sample one
        (a PennyLane device runs the circuit).

    Returns
    -------
    UserCircuit

    Raises
    ------
    TypeError, ValueError
        For inconsistent knobs, and when the check recording finds no gates, a returned
        value, an index past the declared size, parameters the function never reads, a
        measurement, or an operation the engine cannot simulate.
    """
    name = getattr(fn, "__name__", type(fn).__name__)
    form, angle_shape = _check_form(name, n_layers, angles_per_layer, shape)
    for label, fn_ in (("structure", structure), ("state_prep", state_prep)):
        if fn_ is not None and not callable(fn_):
            raise TypeError(f"{label}={fn_!r} must be a function")
    mirror = parse_init(init)[0] in MIRRORED
    if mirror and (form != "layer" or angle_shape[0] % 2):
        raise ValueError(f"init={init!r} needs two things: the layer form (angles_per_layer=, not shape=) and "
                         f"an even n_layers (got form={form!r}, n_layers={angle_shape[0]})")
    draft = UserCircuit(fn, name, form, angle_shape, structure, (), state_prep, mirror)
    structure_shape: tuple[int, ...] = ()
    if structure is not None:
        drawn = draft._draw_structure(torch.Generator().manual_seed(0), PROBE_SAMPLES)
        structure_shape = tuple(drawn.shape[1:])
        if form == "layer" and (not structure_shape or structure_shape[0] != n_layers):
            raise ValueError(f"structure returned {tuple(drawn.shape)}; in the layer form it must be "
                             f"[n_samples, n_layers={n_layers}, ...] (layer k gets [..., k, ...])")
    ansatz = UserCircuit(fn, name, form, angle_shape, structure, structure_shape, state_prep, mirror)
    pauli_shift, rebind = check_recording(ansatz, list(range(n_qubits)), batched)
    return dataclasses.replace(ansatz, pauli_shift=pauli_shift, rebind=rebind)


def _check_form(name: str, n_layers: int | None, angles_per_layer: int | None,
                shape: tuple[int, ...] | None) -> tuple[str, tuple[int, ...]]:
    """``(form, one sample's angle shape)`` after checking the knobs of a function ansatz."""
    def positive(label: str, v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{label}={v!r} must be an int ≥ 1")
        return v

    if (angles_per_layer is None) == (shape is None):
        raise ValueError(f"ansatz={name} is a function: give angles_per_layer= (layer form, fn(angles, wires) "
                         f"per layer, with n_layers=) or shape= (whole-circuit form, fn(params, wires)), not "
                         f"{'both' if shape is not None else 'neither'}")
    if shape is None:
        if n_layers is None:
            raise ValueError(f"ansatz={name} in the layer form needs n_layers=")
        return "layer", (positive("n_layers", n_layers), positive("angles_per_layer", angles_per_layer))
    if not isinstance(shape, (tuple, list)) or not shape:
        raise ValueError(f"shape={shape!r} must be a non-empty tuple of ints ≥ 1, e.g. (40, 11)")
    checked = tuple(positive(f"shape={tuple(shape)!r}: entry", v) for v in shape)
    if n_layers is not None and n_layers != shape[0]:
        raise ValueError(f"n_layers={n_layers!r} differs from shape[0]={shape[0]}; in the whole-circuit form the "
                         "layers are shape's leading axis (leave n_layers out)")
    return "whole", checked


def check_recording(ansatz: UserCircuit, wires: list, batched: bool = True) -> tuple[bool, bool]:
    """Record ``ansatz`` on a small batch (or, with ``batched=False``, one sample: the
    per-sample path of PennyLane devices) and raise for what the engine cannot run.

    Returns ``(pauli_shift, rebind)``: whether the two-term parameter-shift rule is exact for
    every angle, and whether a recording re-bound to other parameters equals their own
    (both False for ``batched=False``: they concern the engine).
    """
    gen = torch.Generator().manual_seed(0)
    params = ansatz.sample(gen, PROBE_SAMPLES, len(wires), ansatz.fixed_layers, "uniform")
    params = (params if batched else params[0]).requires_grad_(True)
    size = (f"angles_per_layer={ansatz.angle_shape[1]}" if ansatz.form == "layer"
            else f"shape={tuple(ansatz.angle_shape)}")
    try:
        with qml.queuing.AnnotatedQueue() as queue:
            ansatz.qfunc(params, wires)
    except IndexError as err:
        raise UserCircuitError(f"{ansatz.name} reads past its parameters ({err}); it was declared with {size}: "
                               "make it match what the function reads") from err
    except UserCircuitError:
        raise
    except Exception as err:  # anything else: the function does not run on a batch of samples
        raise UserCircuitError(
            f"{ansatz.name} failed on a batch of {PROBE_SAMPLES} samples ({type(err).__name__}: {err}); qcgrad records "
            "it once with a sample axis on every parameter, which PennyLane operations broadcast over. Read "
            "parameters by indexing (angles[j], params[l, j]) and keep Python logic off their values (float(), "
            "if angle > 0); a gate that cannot broadcast runs per sample on a PennyLane device "
            "(device='lightning.qubit')") from err
    ops = [op for op in queue.queue if not isinstance(op, qml.Barrier)]
    measured = [op for op in ops if isinstance(op, qml.measurements.MeasurementProcess)]
    if measured:
        raise ValueError(f"{ansatz.name} queues the measurement {measured[0]!r}; a circuit function queues gates "
                         "only (the cost is cost=...; for a QNode use qcgrad.quantum.from_qnode)")
    if all(op.name == "Identity" for op in ops):
        raise ValueError(f"{ansatz.name} queues no gates; it must call PennyLane operations "
                         "(qml.RY(angles[0], wires=wires[0]), templates, ...)")
    for op in ops:
        _check_simulable(op, ansatz.name, wires)
    _check_reads_all(ansatz, ops, params, size)
    if not batched:
        return False, False
    # A second batch: does the first recording, re-bound to it, equal its own recording?
    other = ansatz.sample(torch.Generator().manual_seed(1), PROBE_SAMPLES, len(wires), ansatz.fixed_layers, "uniform")
    with qml.queuing.AnnotatedQueue() as fresh:
        ansatz.qfunc(other, wires)
    rebound = [_rebound(op, params, other, ansatz.n_angles) for op in queue.queue]
    return _pauli_shift(ops, params, ansatz.n_angles), _same_recording(rebound, list(fresh.queue))


def _check_simulable(op: Any, name: str, wires: list) -> None:
    from . import engine

    outside = [w for w in op.wires if w not in wires]
    if outside:
        raise ValueError(f"{name} queues {op.name} on wire {outside[0]!r}; the circuit's wires are {wires}")
    if isinstance(op, qml.operation.Channel):
        raise ValueError(f"{name} queues the channel {op.name}; the state-vector engine runs gates only "
                         "(noise after every layer: noise=...)")
    if op.name in engine.BUILDERS or (op.has_matrix and len(op.wires) <= 3):
        return
    if not op.has_decomposition:
        raise ValueError(f"{name} queues {op.name} on {len(op.wires)} wires, which has neither a matrix on ≤ 3 "
                         "wires nor a decomposition; the engine cannot simulate it (use gates PennyLane can "
                         "decompose)")
    for part in op.decomposition():
        _check_simulable(part, name, wires)


def _trainable_data(op: Any) -> list[torch.Tensor]:
    return [d for d in op.data if isinstance(d, torch.Tensor) and d.requires_grad and d.is_floating_point()]


def _reached(data: list[torch.Tensor], params: torch.Tensor, n: int) -> torch.Tensor:
    """Bool ``[n]``: which of the first ``n`` columns of ``params`` the tensors ``data`` depend on."""
    if not data:
        return torch.zeros(n, dtype=torch.bool)
    # Random weights per entry: reads that cancel in a plain sum (a - a) are not counted as used.
    gen = torch.Generator().manual_seed(1)
    total = torch.stack([(d * (1 + torch.rand(d.shape, generator=gen, dtype=d.dtype))).sum() for d in data]).sum()
    (g,) = torch.autograd.grad(total, params, allow_unused=True, retain_graph=True)
    return torch.zeros(n, dtype=torch.bool) if g is None else (g[..., :n] != 0).reshape(-1, n).any(0)


def _pauli_shift(ops: list, params: torch.Tensor, n: int) -> bool:
    """Whether each of the first ``n`` columns is the angle of exactly one Pauli rotation, read
    unchanged (templates are looked into: their decompositions read plain columns)."""
    hits = torch.zeros(n, dtype=torch.long)
    other: list[torch.Tensor] = []
    stack = list(reversed(ops))
    while stack:
        op = stack.pop()
        data = _trainable_data(op)
        if not data:
            continue
        if op.name not in PAULI_ROTATIONS and op.has_decomposition:
            stack.extend(reversed(op.decomposition()))
            continue
        for d in data:
            c = _column(d, params)
            if op.name in PAULI_ROTATIONS and c is not None and c < n:
                hits[c] += 1
            else:
                other.append(d)
    return bool((hits == 1).all()) and not bool(_reached(other, params, n).any())


def _column(d: torch.Tensor, params: torch.Tensor) -> int | None:
    """``c`` when ``d`` is the plain view ``params[:, c]``, else None."""
    if d.dim() != 1 or d._base is not params or d.shape[0] != params.shape[0] or d.stride(0) != params.stride(0):
        return None
    c = int(d.storage_offset() - params.storage_offset())
    return c if 0 <= c < params.shape[1] else None


def _check_reads_all(ansatz: UserCircuit, ops: list, params: torch.Tensor, size: str) -> None:
    """Every angle must reach some gate parameter (the gradient of Σ gate data is nonzero)."""
    used = _reached([d for op in ops for d in _trainable_data(op)], params, ansatz.n_angles)
    if not used.all():
        unused = (~used).nonzero()[:, 0].tolist()
        first = tuple(int(i) for i in torch.unravel_index(torch.tensor(unused[0]), ansatz.angle_shape))
        raise ValueError(f"{ansatz.name} never reads {len(unused)} of its {ansatz.n_angles} parameters (first: "
                         f"index {first} of {size}); declare the size the function reads")


def from_qnode(qnode: qml.QNode, shape: tuple[int, ...], **options: Any) -> Any:
    """A QNode that returns one ``qml.expval`` as a :class:`qcgrad.quantum.CircuitModel`.

    The QNode's function takes ONE sample's ``params`` (``Tensor[shape]``); its gates are the
    circuit and its observable the cost. The engine runs it (batched) unless ``device=``
    names another device (``device=qnode.device`` runs it where the QNode would).

    Parameters
    ----------
    qnode : qml.QNode
        ``f(params) -> qml.expval(observable)``; wires from its device (or its gates).
    shape : tuple[int, ...]
        One sample's parameter shape; groups ``"layer:k"`` along ``shape[0]``.
    **options
        Any keyword of :func:`qcgrad.quantum.circuit` but the circuit's own (``cost``,
        ``n_qubits``, ``n_layers``, ``angles_per_layer``, ``structure``): ``init``,
        ``device``, ``device_options``, ``dtype``, ``noise``, ``shots``, ...

    Returns
    -------
    CircuitModel

    Examples
    --------
    >>> @qml.qnode(qml.device("default.qubit", wires=2))
    ... def bell(params):
    ...     qml.RY(params[0], wires=0); qml.CNOT(wires=[0, 1]); qml.RY(params[1], wires=1)
    ...     return qml.expval(qml.Z(0) @ qml.Z(1))
    >>> model = from_qnode(bell, shape=(2,))
    >>> model.describe()["ansatz"], model.cost(torch.zeros(1, 2)).tolist()
    ('bell', [1.0])
    """
    from .circuits import circuit

    if not isinstance(qnode, qml.QNode):
        raise TypeError(f"qnode={qnode!r} must be a qml.QNode; a quantum function goes to qcgrad.quantum.circuit")
    taken = sorted(set(options) & {"cost", "n_qubits", "n_layers", "angles_per_layer", "structure"})
    if taken:
        raise ValueError(f"from_qnode sets {taken} from the QNode itself; pass only shape= and circuit options")
    _check_form(qnode.func.__name__, None, None, shape)
    func, name = qnode.func, qnode.func.__name__
    with qml.queuing.AnnotatedQueue() as queue:
        returned = func(torch.rand(tuple(shape), generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    if isinstance(returned, (tuple, list)) and len(returned) == 1:
        returned = returned[0]
    if isinstance(returned, (tuple, list)):
        raise ValueError(f"QNode {name} returns {len(returned)} measurements; qcgrad measures the gradient of one "
                         "cost: return a single qml.expval(observable)")
    if not isinstance(returned, qml.measurements.ExpectationMP) or returned.obs is None:
        kind = type(returned).__name__
        raise ValueError(f"QNode {name} returns {kind}; qcgrad needs one qml.expval(observable) (not probs, "
                         "sample, counts, var or state): the observable is the cost")
    gates = [op for op in queue.queue if isinstance(op, qml.operation.Operator)]
    labels = list(qnode.device.wires) if qnode.device.wires is not None else \
        sorted(qml.wires.Wires.all_wires([op.wires for op in gates] + [returned.obs.wires]).labels, key=str)
    wire_map = None if labels == list(range(len(labels))) else {w: i for i, w in enumerate(labels)}
    observable = returned.obs if wire_map is None else returned.obs.map_wires(wire_map)

    def gates_of(params: torch.Tensor, wires: list) -> None:
        with qml.queuing.AnnotatedQueue() as inner:
            func(params)
        for op in inner.queue:
            if isinstance(op, qml.operation.Operator):
                qml.QueuingManager.append(op if wire_map is None else op.map_wires(wire_map))

    gates_of.__name__ = name
    return circuit(gates_of, n_qubits=len(labels), shape=tuple(shape), cost=observable, **options)


__all__ = ["PerSample", "UserCircuit", "UserCircuitError", "user_ansatz", "check_recording", "from_qnode",
           "PROBE_SAMPLES"]
