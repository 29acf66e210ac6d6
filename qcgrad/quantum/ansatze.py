"""Ansätze written once as PennyLane quantum functions over a flat, batched parameter vector.

An ansatz is a prefix (state preparation) and ``n_layers`` layers; each layer's gates read
that layer's angles (and, for ``random_pauli``, its frozen gate codes). The flat vector is
``[angles of layer 0, ..., angles of layer L-1, structure of layer 0, ..., structure of layer L-1]``
with groups ``"layer:k"`` (trainable) and ``"gates"`` (frozen structure, when present). A
leading batch axis on ``params`` broadcasts every gate over samples, so one recording serves
the engine, and the same quantum function runs on any PennyLane device.

Every layer ends with a ``qml.Barrier``: layer boundaries are explicit in the recorded
operations (noise after every layer is placed there). Every layer can also be queued as its
inverse (gates reversed, angles negated, the same parameters), which the identity-block
initialization uses (:mod:`qcgrad.quantum.inits`).

Ansätze: ``random_pauli`` (McClean 2018), ``hardware_efficient`` (RY/RZ + CNOTs),
``strongly_entangling`` (PennyLane's template), ``alternating_layered`` (Cerezo 2021),
``hva`` (Hamiltonian variational ansatz of the transverse-field Ising chain, Wiersema 2020),
``tensor_product`` (Cerezo 2021).
"""
from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import pennylane as qml
import torch

from .inits import MIRRORED, draw_angles, mirror_layers, parse_init
from .ops import PAULI_CODES, AxisRotation

#: Entangler topologies: n wires -> the ordered wire-position pairs an entangling layer couples.
TOPOLOGIES: dict[str, Callable[[int], list[tuple[int, int]]]] = {
    "chain": lambda n: [(i, i + 1) for i in range(n - 1)],
    "ring": lambda n: [(i, i + 1) for i in range(n - 1)] + ([(n - 1, 0)] if n > 2 else []),
    "all": lambda n: list(combinations(range(n), 2)),
}


@dataclass(frozen=True)
class Ansatz:
    """A registered ansatz, optionally bound to its options by :meth:`configure`.

    Attributes
    ----------
    name : str
    layer : Callable
        ``layer(angles, structure, wires, k, inverse, options)`` queues layer ``k``:
        ``angles`` is ``Tensor[..., angles_per_layer(n)]``, ``structure`` is
        ``Tensor[..., structure_per_layer(n)]`` or None, ``inverse`` queues the inverse of
        layer k's gates (the identity-block init inverts layer k+1 with layer k's layout).
    angles_per_layer, structure_per_layer : Callable[[int], int]
        n_qubits -> trainable angles / frozen structure entries per layer.
    prefix : Callable[[list], None] or None
        State preparation before the first layer.
    structure : Callable or None
        ``(gen, n_samples, n_qubits, n_layers) -> Tensor[n_samples, n_layers * structure_per_layer]``.
    pauli_shift : bool
        Every trainable parameter enters exactly one Pauli rotation exp(∓iθP/2), so the
        two-term parameter-shift rule with shift π/2 is exact.
    fixed_layers : int or None
        Number of layers when the ansatz has a fixed depth (the n_layers knob is ignored).
    topologies : tuple[str, ...]
        Entangler topologies it accepts (first: default); empty when its entangler is fixed.
    options : dict
        Bound by :meth:`configure`: ``pairs`` (entangled wire positions), ``block_size``,
        ``mirror`` (odd layers inverted, for the identity-block init).
    """

    name: str
    layer: Callable[..., None]
    angles_per_layer: Callable[[int], int]
    structure_per_layer: Callable[[int], int] = lambda n: 0
    prefix: Callable[[list], None] | None = None
    structure: Callable[..., torch.Tensor] | None = None
    pauli_shift: bool = True
    fixed_layers: int | None = None
    topologies: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict, compare=False)

    # --- layout -------------------------------------------------------------------------

    def shape(self, n_qubits: int, n_layers: int) -> int:
        """Length of the flat parameter vector."""
        return n_layers * (self.angles_per_layer(n_qubits) + self.structure_per_layer(n_qubits))

    def groups(self, n_qubits: int, n_layers: int) -> dict[str, slice]:
        """``"layer:k"`` slices of the angles, and ``"gates"`` for the structure when present."""
        a, b = self.angles_per_layer(n_qubits), self.structure_per_layer(n_qubits)
        groups = {f"layer:{k}": slice(k * a, (k + 1) * a) for k in range(n_layers)}
        if b:
            groups["gates"] = slice(n_layers * a, n_layers * (a + b))
        return groups

    @property
    def frozen(self) -> tuple[str, ...]:
        """``("gates",)`` when the ansatz draws frozen structure, else ``()``."""
        return ("gates",) if self.structure is not None else ()

    def layer_index(self, n_qubits: int, n_layers: int, k: int) -> torch.Tensor:
        """Positions of all of layer ``k``'s parameters (angles, then structure)."""
        a, b = self.angles_per_layer(n_qubits), self.structure_per_layer(n_qubits)
        return torch.cat([torch.arange(k * a, (k + 1) * a), n_layers * a + torch.arange(k * b, (k + 1) * b)])

    @property
    def rebind(self) -> bool:
        """True: the layers read the parameters as views (angles and structure alike) or
        compute from them with autograd (inverted layers), never by detached arithmetic, so
        the engine can tell a recording that holds only the layout (as for user circuits,
        ``qcgrad.quantum.user.UserCircuit.rebind``)."""
        return True

    # --- circuit ------------------------------------------------------------------------

    def qfunc(self, params: torch.Tensor, wires: list, n_layers: int) -> None:
        """Queue the circuit: prefix, then the layers, each ended by a ``qml.Barrier``."""
        n = len(wires)
        a, b = self.angles_per_layer(n), self.structure_per_layer(n)
        options = self.options or self.default_options(n)
        if self.prefix is not None:
            self.prefix(wires)
        for k in range(n_layers):
            angles = params[..., k * a: (k + 1) * a]
            structure = params[..., n_layers * a + k * b: n_layers * a + (k + 1) * b] if b else None
            inverse = bool(options.get("mirror")) and k % 2 == 1
            # An inverted layer undoes the layer before it, so it takes that layer's gate layout.
            self.layer(angles, structure, wires, k - 1 if inverse else k, inverse, options)
            qml.Barrier(wires=wires)

    def sample(self, gen: torch.Generator, n_samples: int, n_qubits: int, n_layers: int, init: str) -> torch.Tensor:
        """``Tensor[n_samples, n_params]``: angles from ``init``, then the frozen structure."""
        angles = draw_angles(init, gen, (n_samples, n_layers * self.angles_per_layer(n_qubits)))
        parts = [angles] if self.structure is None else [angles, self.structure(gen, n_samples, n_qubits, n_layers)]
        params = torch.cat(parts, dim=1)
        if parse_init(init)[0] in MIRRORED:
            params = mirror_layers(params, lambda k: self.layer_index(n_qubits, n_layers, k), n_layers)
        return params

    def knobs(self) -> dict[str, Any]:
        """The bound options worth recording: a non-default topology, alternating_layered's block size."""
        knobs: dict[str, Any] = {}
        if self.topologies and self.options.get("topology", self.topologies[0]) != self.topologies[0]:
            knobs["topology"] = self.options["topology"]
        if self.name == "alternating_layered":
            knobs["block_size"] = self.options.get("block_size", 2)
        return knobs

    def default_options(self, n_qubits: int) -> dict[str, Any]:
        """Options of an unconfigured ansatz: default topology, blocks of 2, no mirroring."""
        pairs = TOPOLOGIES[self.topologies[0]](n_qubits) if self.topologies else []
        return {"pairs": pairs, "block_size": 2, "mirror": False}

    def configure(self, n_qubits: int, n_layers: int, topology: str | None = None, block_size: int = 2,
                  init: str = "uniform") -> Ansatz:
        """This ansatz bound to its options, after checking them.

        Parameters
        ----------
        n_qubits, n_layers : int
        topology : str, optional
            A name in :data:`TOPOLOGIES` that this ansatz accepts (``topologies``); default
            its first.
        block_size : int
            Qubits per block of ``alternating_layered`` (even, 2 ≤ m ≤ n_qubits).
        init : str
            An init spec; ``"identity_block"`` inverts every odd layer and needs an even
            ``n_layers`` ≥ 2 on an ansatz without a fixed depth.
        """
        if topology is not None and topology not in self.topologies:
            raise ValueError(f"topology={topology!r} is not available for ansatz={self.name!r}; "
                             f"use one of {list(self.topologies) or [None]}")
        if self.name == "alternating_layered":
            if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 2 \
                    or block_size % 2 or block_size > n_qubits:
                raise ValueError(f"block_size={block_size!r} must be an even int in [2, n_qubits={n_qubits}]")
        elif block_size != 2:
            raise ValueError(f"block_size={block_size!r} applies to ansatz='alternating_layered' only")
        mirror = parse_init(init)[0] in MIRRORED
        if mirror and self.fixed_layers is not None:
            raise ValueError(f"init={init!r} pairs each layer with its inverse, but ansatz={self.name!r} has a fixed "
                             f"depth of {self.fixed_layers} layer(s); use an ansatz whose depth n_layers sets")
        if mirror and n_layers % 2:
            raise ValueError(f"init={init!r} pairs each layer with its inverse: n_layers={n_layers} is odd; "
                             "use an even n_layers ≥ 2")
        options = self.default_options(n_qubits)
        if topology is not None:
            options["pairs"] = TOPOLOGIES[topology](n_qubits)
        options.update(block_size=block_size, mirror=mirror, topology=topology or (self.topologies or (None,))[0])
        return dataclasses.replace(self, options=options)


@functools.cache
def _constant_gate(gate: Callable, wires: tuple, *params: float) -> qml.operation.Operator:
    """One instance per constant gate (CZ, CNOT, RY(π/4), ...) on given wires.

    :func:`qml.apply` queues a copy of it, several times cheaper than building the gate
    anew: constant gates are most of the operations a layered ansatz records.
    """
    with qml.QueuingManager.stop_recording():
        return gate(*params, wires=list(wires))


def _on(wires: list, pairs: list[tuple[int, int]], gate: Callable, inverse: bool, *args: Any) -> None:
    """``gate(*args, wires=[a, b])`` on every pair, in reverse order for the inverse."""
    for i, j in (reversed(pairs) if inverse else pairs):
        if args:
            gate(*args, wires=[wires[i], wires[j]])
        else:
            qml.apply(_constant_gate(gate, (wires[i], wires[j])))


def _rotations(gate: Callable, angles: torch.Tensor, wires: list, inverse: bool) -> None:
    """``gate(±angles[..., q])`` on every wire q (negated for the inverse)."""
    if inverse:
        angles = -angles
    for q, w in enumerate(wires):  # views of params: no per-gate copy, a direct gradient column
        gate(angles[..., q], wires=w)


# --- random_pauli: McClean et al. 2018 -------------------------------------------------------

def _random_pauli_layer(angles, codes, wires, k, inverse, options) -> None:
    """Random-axis rotations RX/RY/RZ(θ) on every qubit, then CZ on the topology's pairs."""
    if inverse:
        _on(wires, options["pairs"], qml.CZ, True)
        angles = -angles
    codes = codes.detach()  # frozen structure: never differentiated
    for q, w in enumerate(wires):
        AxisRotation(angles[..., q], codes[..., q], wires=w)
    if not inverse:
        _on(wires, options["pairs"], qml.CZ, False)


def _ry_quarter(wires: list) -> None:
    for w in wires:
        qml.apply(_constant_gate(qml.RY, (w,), math.pi / 4))


def _random_codes(gen: torch.Generator, s: int, n: int, n_layers: int) -> torch.Tensor:
    return torch.randint(0, 3, (s, n * n_layers), generator=gen).to(torch.float64)


# --- hardware_efficient ------------------------------------------------------------------

def _hardware_efficient_layer(angles, _, wires, k, inverse, options) -> None:
    """RY(θ_q) then RZ(φ_q) on every qubit, then CNOTs on the topology's pairs."""
    n = len(wires)
    if inverse:
        _on(wires, options["pairs"], qml.CNOT, True)
        _rotations(qml.RZ, angles[..., n:], wires, True)
        _rotations(qml.RY, angles[..., :n], wires, True)
        return
    _rotations(qml.RY, angles[..., :n], wires, False)
    _rotations(qml.RZ, angles[..., n:], wires, False)
    _on(wires, options["pairs"], qml.CNOT, False)


# --- strongly_entangling: PennyLane's StronglyEntanglingLayers -------------------------------

def _strongly_entangling_layer(angles, _, wires, k, inverse, options) -> None:
    """Layer k of ``qml.StronglyEntanglingLayers``: Rot on every qubit, CNOT(i, i + r_k mod n)."""
    n = len(wires)
    r = k % (n - 1) + 1 if n > 1 else 0  # PennyLane's default ranges
    weights = angles.unflatten(-1, (n, 3))
    if not inverse:
        qml.StronglyEntanglingLayers(weights.unsqueeze(-3), wires=wires, ranges=[r])
        return
    if n > 1:
        for i in reversed(range(n)):
            qml.CNOT(wires=[wires[i], wires[(i + r) % n]])
    for q, w in enumerate(wires):  # Rot(φ, θ, ω)⁻¹ = Rot(−ω, −θ, −φ)
        qml.Rot(-weights[..., q, 2], -weights[..., q, 1], -weights[..., q, 0], wires=w)


# --- alternating_layered: Cerezo et al. 2021 -------------------------------------------------

def alternating_blocks(n: int, m: int, k: int) -> list[list[int]]:
    """Wire positions of the m-qubit blocks of layer k: from 0 on even layers, shifted by m/2 on odd.

    Examples
    --------
    >>> alternating_blocks(6, 2, 0), alternating_blocks(6, 2, 1)
    ([[0, 1], [2, 3], [4, 5]], [[1, 2], [3, 4]])
    """
    start = 0 if k % 2 == 0 else m // 2
    return [list(range(s, s + m)) for s in range(start, n - m + 1, m)]


def _alternating_layered_layer(angles, _, wires, k, inverse, options) -> None:
    """RY(θ_q) on every qubit, then a CZ ladder inside each m-qubit block of this layer."""
    pairs = [(b[i], b[i + 1]) for b in alternating_blocks(len(wires), options["block_size"], k)
             for i in range(len(b) - 1)]
    if inverse:
        _on(wires, pairs, qml.CZ, True)
    _rotations(qml.RY, angles, wires, inverse)
    if not inverse:
        _on(wires, pairs, qml.CZ, False)


# --- hva: Hamiltonian variational ansatz of the TFIM chain (Wiersema et al. 2020) ------------

def _hadamards(wires: list) -> None:
    # |+…+⟩: the ground state of the field term −Σ X.
    for w in wires:
        qml.apply(_constant_gate(qml.Hadamard, (w,)))


def _hva_layer(angles, _, wires, k, inverse, options) -> None:
    """exp(−iγ/2 Σ ZZ) on the topology's pairs, then exp(−iβ/2 Σ X); one (γ, β) per layer."""
    n = len(wires)
    gamma, beta = angles[..., 0], angles[..., 1]
    if inverse:
        _rotations(qml.RX, beta.unsqueeze(-1).expand(beta.shape + (n,)), wires, True)
        _on(wires, options["pairs"], qml.IsingZZ, True, -gamma)
        return
    _on(wires, options["pairs"], qml.IsingZZ, False, gamma)
    _rotations(qml.RX, beta.unsqueeze(-1).expand(beta.shape + (n,)), wires, False)


# --- tensor_product: Cerezo et al. 2021 ------------------------------------------------------

def _tensor_product_layer(angles, _, wires, k, inverse, options) -> None:
    """RX(θ_q) on every qubit of |0…0⟩."""
    _rotations(qml.RX, angles, wires, inverse)


RANDOM_PAULI = Ansatz("random_pauli", _random_pauli_layer, angles_per_layer=lambda n: n,
                      structure_per_layer=lambda n: n, prefix=_ry_quarter, structure=_random_codes,
                      topologies=("chain", "ring", "all"))
HARDWARE_EFFICIENT = Ansatz("hardware_efficient", _hardware_efficient_layer, angles_per_layer=lambda n: 2 * n,
                            topologies=("chain", "ring", "all"))
STRONGLY_ENTANGLING = Ansatz("strongly_entangling", _strongly_entangling_layer, angles_per_layer=lambda n: 3 * n)
ALTERNATING_LAYERED = Ansatz("alternating_layered", _alternating_layered_layer, angles_per_layer=lambda n: n)
HVA = Ansatz("hva", _hva_layer, angles_per_layer=lambda n: 2, prefix=_hadamards, pauli_shift=False,
             topologies=("chain", "ring", "all"))
TENSOR_PRODUCT = Ansatz("tensor_product", _tensor_product_layer, angles_per_layer=lambda n: n, fixed_layers=1)

#: Ansatz name -> Ansatz, in the order `qcgrad list` shows them.
ANSATZ_SPECS: dict[str, Ansatz] = {a.name: a for a in (
    RANDOM_PAULI, HARDWARE_EFFICIENT, STRONGLY_ENTANGLING, ALTERNATING_LAYERED, HVA, TENSOR_PRODUCT)}


def random_pauli(params: torch.Tensor, wires: list, n_layers: int) -> None:
    """McClean 2018: RY(π/4) on every qubit, then ``n_layers`` of random-axis rotations + CZ chain.

    ``params[..., :n·L]`` are the angles (layer-major), ``params[..., n·L:]`` the gate codes
    (0: RX, 1: RY, 2: RZ) of each (layer, qubit).
    """
    RANDOM_PAULI.qfunc(params, wires, n_layers)


def tensor_product(params: torch.Tensor, wires: list, n_layers: int = 1) -> None:
    """Cerezo 2021: RX(θᵢ) on every qubit of ``|0…0⟩`` (one layer by definition)."""
    TENSOR_PRODUCT.qfunc(params, wires, 1)


__all__ = ["Ansatz", "ANSATZ_SPECS", "TOPOLOGIES", "PAULI_CODES", "alternating_blocks",
           "random_pauli", "tensor_product"]
