"""Cost observables: each a PennyLane observable (any device measures it) plus its diagonal.

All three costs are diagonal in the computational basis, so the engine evaluates them as
``Σ_x |ψ_x|² h_x`` and seeds the adjoint pass with ``λ = h ⊙ ψ``.

- ``zz``: ⟨Z₀Z₁⟩ (McClean 2018).
- ``global``: 1 − P(|0…0⟩) (Cerezo 2021), the projector cost; Var decays exponentially in n.
- ``local``: 1 − (1/n) Σᵢ Pᵢ(|0⟩) = ½ − (1/2n) Σᵢ Zᵢ (Cerezo 2021); polynomial decay.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pennylane as qml
import torch


@dataclass(frozen=True)
class Cost:
    """A cost observable in two forms.

    Attributes
    ----------
    name : str
    min_qubits : int
        Fewest qubits the observable is defined on.
    observable : Callable[[list], qml.operation.Operator]
        Wires -> PennyLane observable (``qml.expval`` of it is the cost).
    diagonal : Callable[[int], Tensor[2**n]]
        n -> the observable's diagonal in the computational basis (wire 0 most significant).
    """

    name: str
    min_qubits: int
    observable: Callable[[list], "qml.operation.Operator"]
    diagonal: Callable[[int], torch.Tensor]

    def check(self, n_qubits: int) -> None:
        """Raise ValueError when the cost is not defined on ``n_qubits`` wires."""
        if n_qubits < self.min_qubits:
            raise ValueError(f"cost={self.name!r} acts on {self.min_qubits} or more qubits; "
                             f"got n_qubits={n_qubits}")


def _z(n: int, wire: int) -> torch.Tensor:
    """Eigenvalues (±1) of Z on ``wire`` over the 2^n basis states."""
    bits = (torch.arange(1 << n) >> (n - 1 - wire)) & 1
    return 1.0 - 2.0 * bits.to(torch.float64)


def _zz_diagonal(n: int) -> torch.Tensor:
    return _z(n, 0) * _z(n, 1)


def _global_diagonal(n: int) -> torch.Tensor:
    h = torch.ones(1 << n, dtype=torch.float64)
    h[0] = 0.0
    return h


def _local_diagonal(n: int) -> torch.Tensor:
    return 0.5 - sum(_z(n, w) for w in range(n)) / (2 * n)


def _zz_observable(wires: list) -> "qml.operation.Operator":
    return qml.Z(wires[0]) @ qml.Z(wires[1])


def _global_observable(wires: list) -> "qml.operation.Operator":
    return qml.Identity(wires[0]) - qml.Projector([0] * len(wires), wires=wires)


def _local_observable(wires: list) -> "qml.operation.Operator":
    n = len(wires)
    return qml.Hamiltonian([0.5] + [-1.0 / (2 * n)] * n, [qml.Identity(wires[0])] + [qml.Z(w) for w in wires])


ZZ = Cost("zz", 2, _zz_observable, _zz_diagonal)
GLOBAL = Cost("global", 1, _global_observable, _global_diagonal)
LOCAL = Cost("local", 1, _local_observable, _local_diagonal)
