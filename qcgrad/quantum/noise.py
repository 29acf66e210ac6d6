"""Local noise after every layer: which channel, how strong, and where it goes in a circuit.

A layer ends at each ``qml.Barrier`` an ansatz records (and at the end of the circuit), so
noise placement is read from the ansatz itself. :func:`with_noise` wraps an ansatz's quantum
function so that every layer is followed by the channel on every qubit; the same wrapped
function runs on PennyLane's ``default.mixed`` (reference) and on the batched density-matrix
mode (:mod:`qcgrad.quantum.density`), which applies any op with Kraus matrices.

With p > 0 the cost concentrates on its value at the maximally mixed state and gradients
vanish exponentially in depth at fixed n (noise-induced barren plateaus, Wang et al. 2021).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pennylane as qml

#: Channel name -> PennyLane single-qubit channel with strength p ∈ [0, 1].
CHANNELS: dict[str, Callable[..., Any]] = {
    "depolarizing": qml.DepolarizingChannel,
    "amplitude_damping": qml.AmplitudeDamping,
}


@dataclass(frozen=True)
class Noise:
    """A local channel of strength ``p`` applied to every qubit after every layer.

    Attributes
    ----------
    kind : str
        A name in ``CHANNELS``: ``"depolarizing"`` (ρ → (1−p)ρ + p/3 (XρX + YρY + ZρZ),
        PennyLane's convention) or ``"amplitude_damping"`` (``|1⟩`` → ``|0⟩`` with probability p).
    p : float
        Strength in [0, 1].

    Examples
    --------
    >>> Noise("depolarizing", 0.1)
    Noise(kind='depolarizing', p=0.1)
    """

    kind: str
    p: float

    def __post_init__(self) -> None:
        if self.kind not in CHANNELS:
            raise ValueError(f"noise kind={self.kind!r} is not known; use one of {sorted(CHANNELS)}")
        if isinstance(self.p, bool) or not isinstance(self.p, (int, float)):
            raise TypeError(f"noise p={self.p!r} must be a float in [0, 1]")
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"noise p={self.p} is out of range; it must be in [0, 1]")

    def channel(self, wire: Any) -> Any:
        """The PennyLane channel on ``wire`` (queued when called inside a quantum function)."""
        return CHANNELS[self.kind](float(self.p), wires=wire)


def parse_noise(spec: Noise | str | None) -> Noise | None:
    """A :class:`Noise` from itself, ``"kind:p"`` (e.g. ``"depolarizing:0.05"``) or None.

    Examples
    --------
    >>> parse_noise("amplitude_damping:0.2")
    Noise(kind='amplitude_damping', p=0.2)
    >>> parse_noise(None) is None
    True
    """
    if spec is None or isinstance(spec, Noise):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"noise={spec!r} must be a Noise, a 'kind:p' string or None")
    kind, sep, p = spec.partition(":")
    try:
        strength = float(p)
    except ValueError:
        strength = None
    if not sep or strength is None:
        raise ValueError(f"noise={spec!r} is not 'kind:p'; e.g. 'depolarizing:0.05' with kind in "
                         f"{sorted(CHANNELS)} and p in [0, 1]")
    return Noise(kind, strength)


def split_layers(ops: list) -> list[list]:
    """Operations cut at each ``qml.Barrier`` (barriers dropped); an empty tail is dropped."""
    layers: list[list] = [[]]
    for op in ops:
        if op.name == "Barrier":
            layers.append([])
        else:
            layers[-1].append(op)
    return layers if layers[-1] or len(layers) == 1 else layers[:-1]


def with_noise(qfunc: Callable, noise: Noise) -> Callable:
    """``qfunc(params, wires, n_layers)`` with ``noise`` on every wire after every layer.

    Examples
    --------
    >>> def two_layers(params, wires, n_layers):
    ...     qml.RX(params[0], wires=0); qml.Barrier(wires=wires); qml.RX(params[1], wires=0)
    >>> with qml.queuing.AnnotatedQueue() as q:
    ...     with_noise(two_layers, Noise("depolarizing", 0.1))([0.1, 0.2], [0], 2)
    >>> [op.name for op in q.queue]
    ['RX', 'DepolarizingChannel', 'RX', 'DepolarizingChannel']
    """

    def noisy(params: Any, wires: list, n_layers: int) -> None:
        with qml.queuing.AnnotatedQueue() as queue:
            qfunc(params, wires, n_layers)
        for layer in split_layers(list(queue.queue)):
            for op in layer:
                qml.apply(op)
            for w in wires:
                noise.channel(w)

    return noisy


def count_layers(qfunc: Callable, params: Any, wires: list, n_layers: int) -> int:
    """Number of layers (Barrier-delimited) that ``qfunc`` records."""
    with qml.queuing.AnnotatedQueue() as queue:
        qfunc(params, wires, n_layers)
    return len(split_layers(list(queue.queue)))


__all__ = ["CHANNELS", "Noise", "parse_noise", "split_layers", "with_noise", "count_layers"]
