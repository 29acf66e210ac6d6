"""Parameterized quantum circuits as qcgrad Models, with a batched torch engine."""
from typing import Callable

from .ansatze import INITS, random_pauli, tensor_product
from .circuit import ANSATZ_SPECS, COST_SPECS, CircuitModel, circuit

#: Ansatz name -> PennyLane template; cost name -> observable builder; what `qcgrad list` shows.
ANSATZE: dict[str, Callable] = {name: spec.qfunc for name, spec in ANSATZ_SPECS.items()}
COSTS: dict[str, Callable] = {name: spec.observable for name, spec in COST_SPECS.items()}
#: Devices besides any installed PennyLane device name.
DEVICES = ("engine", "default.qubit", "lightning.qubit", "default.mixed")

__all__ = ["ANSATZE", "COSTS", "INITS", "DEVICES", "CircuitModel", "circuit", "random_pauli", "tensor_product"]
