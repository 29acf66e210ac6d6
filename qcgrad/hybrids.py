"""Hybrid models: torch modules and a circuit composed into one Model (``qcgrad.hybrid``).

(The module is ``hybrids`` so that ``qcgrad.hybrid`` stays the function: a module of the same
name would replace it whenever the module is imported again, e.g. by a doctest run.)

Two compositions, alone or together:

- ``angles=net``: a classical net maps a fixed input to the circuit's trainable angles
  ("parameters from a neural network", a proposed remedy for barren plateaus). The model's
  parameters are the net's; the circuit's frozen structure (e.g. ``random_pauli``'s gate
  choices) is drawn with each sample and kept as a frozen group.
- ``head=net``: a classical net on top of the circuit's per-wire expectation values
  ⟨Z_0⟩ … ⟨Z_{n-1}⟩ (a quantum layer inside a net), with a loss against fixed targets.

The cost is differentiable end to end (the engine's states are differentiable by torch
autograd), so gradients flow through both parts; parameter groups are prefixed by the part
(``"angles/layer:0"``, ``"circuit/layer:3"``, ``"head/layer:0"``) so ``layer_profile`` shows
both sides, and training works as for any Model.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.func import vmap

from .classical.base import fixed_batch
from .classical.module import Groups, Init, ModuleParams
from .model import Model
from .quantum.circuits import CircuitModel
from .validation import warn_user

#: Built-in losses of the head: mean squared error against the targets.
HEAD_LOSSES = ("mse",)


class PerSample:
    """A net evaluated at S parameter vectors on S inputs: vmap where it runs, else a loop.

    Probed once on the net's own parameters; where vmap fails the reason is warned once and
    kept in :attr:`fallback` (the loop gives the same numbers).
    """

    def __init__(self, part: ModuleParams, name: str, x: torch.Tensor) -> None:
        self.part, self.fallback = part, None
        self._mapped = vmap(part.forward)
        try:
            self._mapped(part.flatten(part.template)[None], x[None])
        except Exception as err:  # no batching rule, or data-dependent control flow
            self.fallback = f"{type(err).__name__}: {(str(err).splitlines() or [''])[0]}"
            warn_user(f"torch.func.vmap cannot run the {name} net ({self.fallback}); "
                      "evaluating it one sample at a time (same numbers, slower)")

    def __call__(self, thetas: torch.Tensor, xs: torch.Tensor) -> torch.Tensor:
        if self.fallback is None:
            return self._mapped(thetas, xs)
        return torch.stack([self.part.forward(t, x) for t, x in zip(thetas, xs, strict=True)])


class HybridModel(Model):
    """A circuit with a classical net generating its angles and/or a classical head on it.

    Built by :func:`qcgrad.hybrid`. Layout of the flat parameter vector: the angle net's
    parameters (or the circuit's own, without an angle net), the circuit's frozen
    structure, the head's parameters.
    """

    def __init__(self, circuit: CircuitModel, angles: nn.Module | None, head: nn.Module | None,
                 inputs: torch.Tensor | None, targets: torch.Tensor | None, loss: str | Callable, init: Init,
                 groups: Groups, seed: int) -> None:
        if not isinstance(circuit, CircuitModel):
            raise TypeError(f"circuit={type(circuit).__name__} is not allowed; use a qcgrad.quantum circuit model")
        if circuit.device != "engine" or circuit.shots is not None:
            raise ValueError(f"circuit with device={circuit.device!r}, shots={circuit.shots!r} is not allowed; "
                             "a hybrid differentiates through the circuit: use device='engine' and shots=None")
        if angles is None and head is None:
            raise ValueError("angles=None and head=None: give a net that generates the angles, a head, or both")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed={seed!r} is not allowed; it must be an int ≥ 0")
        self.circuit, self.seed, self.loss = circuit, seed, loss
        dtype = torch.float64
        trainable = circuit.trainable
        self._live = trainable.nonzero()[:, 0]
        self._structure = (~trainable).nonzero()[:, 0]
        self._order = torch.argsort(torch.cat([self._live, self._structure]))
        self.param_groups: dict[str, slice] = {}
        offset = 0

        def add(prefix: str, part_groups: dict[str, slice]) -> slice:
            nonlocal offset
            start = offset
            for name, sl in part_groups.items():
                self.param_groups[f"{prefix}/{name}"] = slice(offset + sl.start, offset + sl.stop)
            offset += max((sl.stop for sl in part_groups.values()), default=0)
            return slice(start, offset)

        self.angles = self.head = None
        if angles is not None:
            if inputs is None:
                raise ValueError("angles=net needs inputs: the fixed input the net maps to the circuit's angles")
            self.angles = ModuleParams(angles, groups, init, dtype)
            self.inputs = inputs.detach().to(dtype) if inputs.is_floating_point() else inputs
            self._angles_slice = add("angles", self.angles.param_groups)
            out = self._probe(self.angles, self.inputs, "angles")
            if out.numel() != len(self._live):
                raise ValueError(f"the angles net returns {tuple(out.shape)} = {out.numel()} numbers on inputs "
                                 f"{tuple(self.inputs.shape)}; the circuit has {len(self._live)} trainable angles")
            self._run_angles = PerSample(self.angles, "angles", self.inputs)
            frozen = {name: sl for name, sl in circuit.param_groups.items() if name in circuit.frozen}
            first = min((sl.start for sl in frozen.values()), default=0)
            self._structure_slice = add("circuit", {k: slice(sl.start - first, sl.stop - first)
                                                    for k, sl in frozen.items()})
        else:
            self._circuit_slice = add("circuit", circuit.param_groups)
        self.frozen = tuple(f"circuit/{name}" for name in circuit.frozen)
        if head is not None:
            if circuit.noise is not None:
                raise ValueError("head=net reads the circuit's state vector; a noisy circuit has none: use noise=None")
            if not (callable(loss) or loss in HEAD_LOSSES):
                raise ValueError(f"loss={loss!r} is not allowed; use 'mse' or a callable (output, targets) -> scalar")
            self.head = ModuleParams(head, groups, init, dtype)
            self._head_slice = add("head", self.head.param_groups)
            features = torch.zeros(1, circuit.n_qubits, dtype=dtype)
            out = self._probe(self.head, features, "head")
            if targets is None and loss == "mse":
                (targets,) = fixed_batch(seed, [tuple(out.shape)], dtype)
            self.targets: Any = targets.detach().to(dtype) if isinstance(targets, torch.Tensor) and \
                targets.is_floating_point() else targets
            value = self._head_loss(out)
            if not isinstance(value, torch.Tensor) or value.numel() != 1:
                raise ValueError(f"loss returned {getattr(value, 'shape', type(value).__name__)}; it must return "
                                 "one scalar per parameter sample")
            self._run_head = PerSample(self.head, "head", features)
            n = circuit.n_qubits
            bits = (torch.arange(2**n)[:, None] >> torch.arange(n - 1, -1, -1)) & 1  # wire 0 most significant
            self._signs = (1 - 2 * bits).to(dtype)
        self.n_params = offset

    @staticmethod
    def _probe(part: ModuleParams, x: torch.Tensor, name: str) -> torch.Tensor:
        try:
            return part.forward(part.flatten(part.template), x)
        except Exception as err:
            raise ValueError(f"the {name} net's forward failed on inputs {tuple(x.shape)}: "
                             f"{type(err).__name__}: {err}") from err

    def _head_loss(self, out: torch.Tensor) -> torch.Tensor:
        if callable(self.loss):
            return self.loss(out, self.targets)
        return ((out - self.targets) ** 2).mean()

    def circuit_params(self, params: torch.Tensor) -> torch.Tensor:
        """The circuit's parameter vectors ``Tensor[S, circuit.n_params]`` for hybrid ``params[S, n_params]``."""
        if self.angles is None:
            return params[:, self._circuit_slice]
        xs = self.inputs.expand(len(params), *self.inputs.shape)
        generated = self._run_angles(params[:, self._angles_slice], xs).reshape(len(params), -1)
        return torch.cat([generated, params[:, self._structure_slice]], dim=1)[:, self._order]

    def expectations(self, params: torch.Tensor) -> torch.Tensor:
        """⟨Z_i⟩ per wire, ``Tensor[S, n_qubits]``, of the circuit at hybrid ``params`` (differentiable)."""
        psi = self.circuit.state(self.circuit_params(params))
        return torch.view_as_real(psi).square().sum(-1) @ self._signs

    def sample_params(self, generator: torch.Generator, n: int) -> torch.Tensor:
        """Angle net's init, then the circuit's (its structure only, with an angle net), then the head's."""
        parts = []
        if self.angles is not None:
            parts.append(self.angles.sample(generator, n))
        drawn = self.circuit.sample_params(generator, n).to(torch.float64)
        parts.append(drawn if self.angles is None else drawn[:, self._structure])
        if self.head is not None:
            parts.append(self.head.sample(generator, n))
        return torch.cat(parts, dim=1)

    def cost(self, params: torch.Tensor) -> torch.Tensor:
        """``Tensor[S, n_params] -> Tensor[S]``, differentiable through the nets and the circuit."""
        if params.dim() != 2 or params.shape[1] != self.n_params:
            raise ValueError(f"params of shape {tuple(params.shape)} does not fit this model; "
                             f"expected [S, {self.n_params}]")
        if self.head is None:
            return self.circuit.cost(self.circuit_params(params))
        out = self._run_head(params[:, self._head_slice], self.expectations(params)[:, None])
        return torch.stack([self._head_loss(o).reshape(()) for o in out])

    def describe(self) -> dict[str, Any]:
        knobs: dict[str, Any] = {"family": "hybrid", **{f"circuit_{k}": v for k, v in self.circuit.describe().items()
                                                        if k != "family"}}
        if self.angles is not None:
            knobs.update(angles=type(self.angles.template).__name__, angles_init=self.angles.init)
        if self.head is not None:
            knobs.update(head=type(self.head.template).__name__, head_init=self.head.init,
                         loss=self.loss if isinstance(self.loss, str) else getattr(self.loss, "__name__", "callable"))
        return {**knobs, "n_params": self.n_params, "seed": self.seed}


def hybrid(circuit: CircuitModel, angles: nn.Module | None = None, head: nn.Module | None = None, *,
           inputs: torch.Tensor | None = None, targets: torch.Tensor | None = None,
           loss: str | Callable[[torch.Tensor, Any], torch.Tensor] = "mse", init: Init = "reset",
           groups: Groups = "children", seed: int = 0) -> HybridModel:
    """Compose torch modules and a circuit into one Model.

    Parameters
    ----------
    circuit : CircuitModel
        From :func:`qcgrad.quantum.circuit` (engine device, exact: the hybrid
        differentiates through it).
    angles : nn.Module, optional
        Net mapping ``inputs`` to the circuit's trainable angles (any output shape with
        that many numbers, in the circuit's parameter order). Without it the circuit's
        own angles are parameters.
    head : nn.Module, optional
        Net on the per-wire expectation values: called on ``Tensor[1, n_qubits]`` holding
        ⟨Z_0⟩ … ⟨Z_{n-1}⟩ (wire 0 first). Without it the cost is the circuit's cost.
    inputs : Tensor
        The angle net's fixed input (required with ``angles``).
    targets : Tensor, optional
        The head's targets; standard normal of the head's output shape, drawn from
        ``seed``, when omitted.
    loss : "mse" or callable
        The head's loss: ``loss(output, targets)`` returns one scalar.
    init, groups
        For both nets, as in :func:`qcgrad.classical.from_module` (init samples redrawn
        by ``reset_parameters()`` by default).
    seed : int
        Seed of the default targets.

    Returns
    -------
    HybridModel
        Groups ``"angles/<group>"`` or ``"circuit/<group>"``, the circuit's frozen
        structure as ``"circuit/<group>"`` (frozen), and ``"head/<group>"``.

    Examples
    --------
    >>> import qcgrad as qg
    >>> from torch import nn
    >>> qc = qg.quantum.circuit("hardware_efficient", n_qubits=3, n_layers=2, cost="local")
    >>> n_angles = int(qc.trainable.sum())
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, n_angles))
    >>> model = hybrid(qc, angles=net, inputs=torch.ones(1, 4))
    >>> list(model.param_groups)
    ['angles/layer:0', 'angles/layer:2']
    >>> model.grad(model.sample_params(torch.Generator().manual_seed(0), 5)).shape
    torch.Size([5, 148])
    """
    return HybridModel(circuit, angles, head, inputs, targets, loss, init, groups, seed)
