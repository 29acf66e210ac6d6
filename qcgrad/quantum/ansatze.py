"""Ansätze written once as PennyLane quantum functions over a flat, batched parameter vector.

Each ansatz is a quantum function ``qfunc(params, wires, n_layers)`` where ``params`` is
``Tensor[..., n_params]`` (a leading batch axis broadcasts every gate over samples), plus a
``shape(n_qubits, n_layers)`` helper, its parameter groups and its initial distribution.
The same qfunc runs on any PennyLane device and is recorded once per call by the engine.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import pennylane as qml
import torch

TWO_PI = 2 * math.pi
#: Half-width of the "small_angle" initialisation, U[-a, a) (radians).
SMALL_ANGLE = 0.1
#: Initial angle distributions: name -> (generator, shape) -> Tensor.
INITS: dict[str, Callable[[torch.Generator, tuple[int, ...]], torch.Tensor]] = {
    "uniform": lambda gen, shape: TWO_PI * torch.rand(shape, generator=gen, dtype=torch.float64),
    "small_angle": lambda gen, shape: SMALL_ANGLE * (2 * torch.rand(shape, generator=gen, dtype=torch.float64) - 1),
}


@dataclass(frozen=True)
class Ansatz:
    """A registered ansatz.

    Attributes
    ----------
    name : str
    qfunc : Callable[[Tensor, list, int], None]
        ``qfunc(params, wires, n_layers)`` queues the gates.
    shape : Callable[[int, int], int]
        ``(n_qubits, n_layers) -> n_params``.
    groups : Callable[[int, int], dict[str, slice]]
        Named parameter slices ("layer:k", and frozen "gates" where present).
    frozen : tuple[str, ...]
        Structure groups, drawn with each sample but never differentiated.
    sample : Callable[[torch.Generator, int, int, int, str], Tensor]
        ``(gen, n_samples, n_qubits, n_layers, init) -> Tensor[n_samples, n_params]``.
    pauli_shift : bool
        Every trainable parameter enters exactly one Pauli rotation exp(-iθP/2) with
        coefficient +1, so the two-term parameter-shift rule with shift π/2 is exact.
    fixed_layers : int or None
        Number of layers when the ansatz has a fixed depth (the n_layers knob is ignored).
    """

    name: str
    qfunc: Callable
    shape: Callable[[int, int], int]
    groups: Callable[[int, int], dict[str, slice]]
    frozen: tuple[str, ...]
    sample: Callable
    pauli_shift: bool = True
    fixed_layers: int | None = None


# --- random_pauli: McClean et al. 2018 -------------------------------------------------------

#: Gate codes of random_pauli, stored as floats in the frozen "gates" group.
PAULI_CODES = {"RX": 0, "RY": 1, "RZ": 2}


def rot_angles(angle: torch.Tensor, code: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(φ, θ, ω) with Rot(φ, θ, ω) = RX/RY/RZ(angle) for code 0/1/2, exactly.

    Rot(φ, θ, ω) = RZ(ω) RY(θ) RZ(φ), so RX(a) = Rot(π/2, a, −π/2), RY(a) = Rot(0, a, 0)
    and RZ(a) = Rot(a, 0, 0) (matrices equal, not only up to phase; tests check it). One
    ``qml.Rot`` per gate keeps a single broadcast operation per gate whatever each
    sample chose, and ``angle`` enters one Pauli rotation with coefficient 1.
    """
    half_pi = math.pi / 2
    is_x, is_z = code == 0, code == 2
    zero = torch.zeros_like(angle)
    phi = torch.where(is_x, zero + half_pi, torch.where(is_z, angle, zero))
    theta = torch.where(is_z, zero, angle)
    omega = torch.where(is_x, zero - half_pi, zero)
    return phi, theta, omega


def random_pauli(params: torch.Tensor, wires: list, n_layers: int) -> None:
    """McClean 2018: RY(π/4) on every qubit, then ``n_layers`` of random-axis rotations + CZ chain.

    ``params[..., :n·L]`` are the angles (layer-major), ``params[..., n·L:]`` the gate codes
    (0: RX, 1: RY, 2: RZ) of each (layer, qubit).
    """
    n = len(wires)
    angles = params[..., : n * n_layers]
    phi, theta, omega = rot_angles(angles, torch.round(params[..., n * n_layers:]))
    for w in wires:
        qml.RY(math.pi / 4, wires=w)
    for layer in range(n_layers):
        for q, w in enumerate(wires):
            i = layer * n + q
            qml.Rot(phi[..., i], theta[..., i], omega[..., i], wires=w)
        for a, b in zip(wires[:-1], wires[1:]):
            qml.CZ(wires=[a, b])


def _random_pauli_groups(n: int, n_layers: int) -> dict[str, slice]:
    groups = {f"layer:{k}": slice(k * n, (k + 1) * n) for k in range(n_layers)}
    groups["gates"] = slice(n * n_layers, 2 * n * n_layers)
    return groups


def _random_pauli_sample(gen: torch.Generator, s: int, n: int, n_layers: int, init: str) -> torch.Tensor:
    angles = INITS[init](gen, (s, n * n_layers))
    codes = torch.randint(0, 3, (s, n * n_layers), generator=gen).to(torch.float64)
    return torch.cat([angles, codes], dim=1)


# --- tensor_product: Cerezo et al. 2021 ------------------------------------------------------

def tensor_product(params: torch.Tensor, wires: list, n_layers: int = 1) -> None:
    """Cerezo 2021: RX(θᵢ) on every qubit of |0…0⟩ (one layer by definition)."""
    for q, w in enumerate(wires):
        qml.RX(params[..., q], wires=w)


def _tensor_product_sample(gen: torch.Generator, s: int, n: int, n_layers: int, init: str) -> torch.Tensor:
    return INITS[init](gen, (s, n))


RANDOM_PAULI = Ansatz(
    name="random_pauli", qfunc=random_pauli, shape=lambda n, n_layers: 2 * n * n_layers,
    groups=_random_pauli_groups, frozen=("gates",), sample=_random_pauli_sample,
)
TENSOR_PRODUCT = Ansatz(
    name="tensor_product", qfunc=tensor_product, shape=lambda n, n_layers: n,
    groups=lambda n, n_layers: {"layer:0": slice(0, n)}, frozen=(), sample=_tensor_product_sample,
    fixed_layers=1,
)
