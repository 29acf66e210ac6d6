"""Cost observables: a PennyLane observable (any device measures it) plus fast engine forms.

A cost is chosen by a spec string (:mod:`qcgrad.quantum.specs`) or given as a PennyLane
operator (a user's ``qml.Hamiltonian``, ``qml.Z(0) @ qml.Z(1)``, ...):

- ``zz``: ⟨Z₀Z₁⟩ (McClean 2018).
- ``global``: 1 − P(|0…0⟩) (Cerezo 2021), the projector cost; Var decays exponentially in n.
- ``local``: 1 − (1/n) Σᵢ Pᵢ(|0⟩) = ½ − (1/2n) Σᵢ Zᵢ (Cerezo 2021); polynomial decay.
- ``tfim`` / ``tfim:h=0.5``: transverse-field Ising chain −Σᵢ ZᵢZᵢ₊₁ − h Σᵢ Xᵢ (open, h = 1 by default).
- ``heisenberg``: Heisenberg XXX chain Σᵢ (XᵢXᵢ₊₁ + YᵢYᵢ₊₁ + ZᵢZᵢ₊₁) (open).

On the engine a diagonal cost is ``Σ_x |ψ_x|² h_x`` (and seeds the adjoint pass with
``λ = h ⊙ ψ``); any other Pauli sum is compiled by :func:`qcgrad.quantum.engine.pauli_sum`
(bit flips and phases, never a dense matrix), for the forward and the adjoint pass alike.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pennylane as qml
import torch

from . import engine
from .specs import format_spec, parse_spec


@dataclass(frozen=True)
class Cost:
    """A cost observable and its engine forms.

    Attributes
    ----------
    name : str
        The spec string (e.g. ``"tfim:h=0.5"``), recorded with results.
    min_qubits : int
        Fewest qubits the observable is defined on.
    observable : Callable[[list], qml.operation.Operator]
        Wires -> PennyLane observable (``qml.expval`` of it is the cost).
    diagonal_fn : Callable[[int], Tensor[2**n]] or None
        Closed-form diagonal (wire 0 most significant) when the cost is known to be
        diagonal; otherwise derived from the Pauli decomposition.
    """

    name: str
    min_qubits: int
    observable: Callable[[list], qml.operation.Operator]
    diagonal_fn: Callable[[int], torch.Tensor] | None = None
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    def check(self, n_qubits: int) -> None:
        """Raise ValueError when the cost is not defined on ``n_qubits`` wires ``0..n-1``."""
        if n_qubits < self.min_qubits:
            raise ValueError(f"cost={self.name!r} acts on {self.min_qubits} or more qubits; "
                             f"got n_qubits={n_qubits}")
        check_wires(self.observable(list(range(n_qubits))), list(range(n_qubits)))

    def diagonal(self, n_qubits: int) -> torch.Tensor | None:
        """The observable's eigenvalues over the computational basis, or None when not diagonal.

        Built on first use (int8 where the eigenvalues are integers: zz, global), and refused
        with a ValueError when 2^n entries do not fit the memory available.
        """
        compiled = self.engine_observable(n_qubits)
        if isinstance(compiled, torch.Tensor):
            return compiled
        return None

    def engine_observable(self, n_qubits: int) -> torch.Tensor | engine.PauliSum:
        """What the engine evaluates: the real diagonal ``Tensor[2**n]`` when the cost is
        diagonal, else the compiled :class:`qcgrad.quantum.engine.PauliSum` (cached per n;
        a closed-form diagonal only for the last n, so a scan over n does not accumulate)."""
        if n_qubits in self._cache:
            return self._cache[n_qubits]
        engine.check_amplitudes(n_qubits, 8, f"the diagonal of cost={self.name!r}")
        if self.diagonal_fn is not None:
            self._cache.clear()
            self._cache[n_qubits] = self.diagonal_fn(n_qubits)
        else:
            wires = list(range(n_qubits))
            compiled = engine.pauli_sum(self.observable(wires), wires)
            if set(compiled.terms) <= {()}:  # only Z/identity words: diagonal, adjoint-friendly
                diagonals = compiled.diagonals("cpu", torch.float64)
                self._cache[n_qubits] = (diagonals[0][1].real if diagonals
                                         else torch.zeros(1 << n_qubits, dtype=torch.float64))
            else:
                self._cache[n_qubits] = compiled
        return self._cache[n_qubits]

    def expectation(self, state: torch.Tensor) -> torch.Tensor:
        """⟨ψ|H|ψ⟩ per sample of ``state[S, 2**n]`` (differentiable by autograd)."""
        observable = self.engine_observable(state.shape[-1].bit_length() - 1)
        if isinstance(observable, torch.Tensor):
            observable = observable.to(state.device)
        return engine.expectation(state, observable)


def check_wires(observable: qml.operation.Operator, wires: list) -> None:
    """Raise ValueError when ``observable`` acts on a wire outside ``wires``."""
    outside = [w for w in observable.wires if w not in wires]
    if outside:
        raise ValueError(f"cost observable {observable} acts on wires {outside} outside the circuit's "
                         f"wires {wires}")


def _z_sign(n: int, wire: int) -> torch.Tensor:
    """The eigenvalue ±1 of Z on ``wire`` (0 = most significant) over the 2^n basis states,
    int8, built by broadcasting (no 2^n index array)."""
    sign = torch.tensor([1, -1], dtype=torch.int8).view(1, 2, 1)
    return sign.expand(1 << wire, 2, 1 << (n - 1 - wire)).reshape(-1)


# --- built-in costs --------------------------------------------------------------------------

def _zz_diagonal(n: int) -> torch.Tensor:
    return _z_sign(n, 0) * _z_sign(n, 1)


def _global_diagonal(n: int) -> torch.Tensor:
    h = torch.ones(1 << n, dtype=torch.int8)
    h[0] = 0
    return h


def _local_diagonal(n: int) -> torch.Tensor:
    total = torch.zeros(1 << n, dtype=torch.int8 if n < 128 else torch.int16)
    for w in range(n):
        total += _z_sign(n, w)
    return 0.5 - total.to(torch.float64) / (2 * n)


def _zz_observable(wires: list) -> qml.operation.Operator:
    return qml.Z(wires[0]) @ qml.Z(wires[1])


def _global_observable(wires: list) -> qml.operation.Operator:
    return qml.Identity(wires[0]) - qml.Projector([0] * len(wires), wires=wires)


def _local_observable(wires: list) -> qml.operation.Operator:
    n = len(wires)
    return qml.Hamiltonian([0.5] + [-1.0 / (2 * n)] * n, [qml.Identity(wires[0])] + [qml.Z(w) for w in wires])


def tfim(n_qubits: int, h: float = 1.0) -> qml.Hamiltonian:
    """Transverse-field Ising chain −Σᵢ ZᵢZᵢ₊₁ − h Σᵢ Xᵢ on wires 0..n−1 (open boundary).

    Examples
    --------
    >>> print(tfim(2, h=0.5))
    -1.0 * (Z(0) @ Z(1)) + -0.5 * X(0) + -0.5 * X(1)
    """
    coeffs = [-1.0] * (n_qubits - 1) + [-float(h)] * n_qubits
    ops = [qml.Z(i) @ qml.Z(i + 1) for i in range(n_qubits - 1)] + [qml.X(i) for i in range(n_qubits)]
    return qml.Hamiltonian(coeffs, ops)


def heisenberg(n_qubits: int) -> qml.Hamiltonian:
    """Heisenberg XXX chain Σᵢ (XᵢXᵢ₊₁ + YᵢYᵢ₊₁ + ZᵢZᵢ₊₁) on wires 0..n−1 (open boundary).

    Examples
    --------
    >>> len(heisenberg(3).operands)
    6
    """
    ops = [p(i) @ p(i + 1) for i in range(n_qubits - 1) for p in (qml.X, qml.Y, qml.Z)]
    return qml.Hamiltonian([1.0] * len(ops), ops)


ZZ = Cost("zz", 2, _zz_observable, _zz_diagonal)
GLOBAL = Cost("global", 1, _global_observable, _global_diagonal)
LOCAL = Cost("local", 1, _local_observable, _local_diagonal)
#: Built-in cost name -> the knobs its spec string accepts.
COST_KNOBS: dict[str, tuple[str, ...]] = {"zz": (), "global": (), "local": (), "tfim": ("h",), "heisenberg": ()}


def make_cost(spec: str | qml.operation.Operator) -> Cost:
    """A ``Cost`` from a spec string (``"zz"``, ``"tfim:h=0.5"``, ...) or a PennyLane operator.

    Parameters
    ----------
    spec : str or qml.operation.Operator
        A name in ``COST_KNOBS`` with its knobs, or an observable on integer wires
        ``0..n_qubits-1`` (validated against the circuit by ``Cost.check``).

    Examples
    --------
    >>> make_cost("tfim:h=0.5").name
    'tfim:h=0.5'
    >>> make_cost("local").diagonal(1).tolist()
    [0.0, 1.0]
    >>> make_cost("zz").diagonal(2).tolist()
    [1, -1, -1, 1]
    """
    if isinstance(spec, qml.operation.Operator):
        return Cost(f"observable:{spec}", 1, lambda wires: spec)
    name, options = parse_spec(spec, "cost", COST_KNOBS)
    if name == "tfim":
        h = options.get("h", 1.0)
        if isinstance(h, bool) or not isinstance(h, (int, float)):
            raise ValueError(f"cost={spec!r}: h={h!r} must be a real number")
        return Cost(format_spec(name, options), 2, _on_wires(lambda n: tfim(n, h)))
    if name == "heisenberg":
        return Cost(name, 2, _on_wires(heisenberg))
    return COST_SPECS[name]


def _on_wires(build: Callable[[int], qml.operation.Operator]) -> Callable[[list], qml.operation.Operator]:
    """``wires -> build(len(wires))`` on those wires; built unrecorded, so that calling it inside a
    quantum function (``qml.expval(cost.observable(wires))``) queues no Pauli gates."""

    def observable(wires: list) -> qml.operation.Operator:
        with qml.QueuingManager.stop_recording():
            return build(len(wires)).map_wires(dict(enumerate(wires)))

    return observable


#: Built-in costs at their default knobs, by name (what `qcgrad list` shows).
COST_SPECS: dict[str, Any] = {c.name: c for c in (ZZ, GLOBAL, LOCAL)}
COST_SPECS.update(tfim=make_cost("tfim"), heisenberg=make_cost("heisenberg"))

__all__ = ["Cost", "COST_SPECS", "COST_KNOBS", "make_cost", "tfim", "heisenberg", "check_wires"]
