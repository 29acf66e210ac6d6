"""Parameterized quantum circuits as qcgrad Models, with a batched torch engine."""
from collections.abc import Callable

from . import density, lightcone, mps, noise, shots
from .ansatze import ANSATZ_SPECS, TOPOLOGIES, random_pauli, tensor_product
from .circuits import CircuitModel, circuit
from .costs import COST_SPECS, heisenberg, make_cost, tfim
from .inits import INITS
from .layerwise import LayerwiseResult, layerwise_train
from .noise import CHANNELS, Noise
from .ops import AxisRotation
from .reference import device_decomposition
from .shots import ShotDecomposition, decompose_variance
from .user import PerSample, from_qnode

#: Ansatz name -> PennyLane template; cost name -> observable builder; what `qcgrad list` shows.
ANSATZE: dict[str, Callable] = {name: spec.qfunc for name, spec in ANSATZ_SPECS.items()}
COSTS: dict[str, Callable] = {name: spec.observable for name, spec in COST_SPECS.items()}
#: Devices besides any installed PennyLane device name.
DEVICES = ("engine", "default.qubit", "lightning.qubit", "default.mixed")

__all__ = [
    "ANSATZE", "COSTS", "INITS", "DEVICES", "TOPOLOGIES", "CHANNELS", "CircuitModel", "circuit",
    "random_pauli", "tensor_product", "tfim", "heisenberg", "make_cost", "layerwise_train",
    "LayerwiseResult", "Noise", "ShotDecomposition", "decompose_variance", "density", "noise", "shots",
    "AxisRotation", "from_qnode", "PerSample", "device_decomposition", "lightcone", "mps",
]
