"""Noise specs and their placement after every layer."""
from types import SimpleNamespace

import pennylane as qml
import pytest
import torch

from qcgrad.quantum import circuit, noise
from qcgrad.quantum.circuits import CircuitModel
from qcgrad.quantum.costs import ZZ


def test_parse_noise():
    assert noise.parse_noise("depolarizing:0.05") == noise.Noise("depolarizing", 0.05)
    assert noise.parse_noise(noise.Noise("amplitude_damping", 1)) == noise.Noise("amplitude_damping", 1)
    assert noise.parse_noise(None) is None


@pytest.mark.parametrize("spec, err, match", [
    ("depolarizing", ValueError, "not 'kind:p'.*depolarizing"),
    ("depolarizing:x", ValueError, "not 'kind:p'"),
    ("bitflip:0.1", ValueError, "bitflip.*amplitude_damping.*depolarizing"),
    ("depolarizing:1.5", ValueError, "1.5 is out of range.*\\[0, 1\\]"),
    (0.1, TypeError, "Noise, a 'kind:p' string or None"),
])
def test_bad_noise_names_allowed_values(spec, err, match):
    with pytest.raises(err, match=match):
        noise.parse_noise(spec)


def test_split_layers_at_barriers():
    ops = [qml.RX(0.1, 0), qml.Barrier(wires=[0]), qml.RY(0.2, 0), qml.Barrier(wires=[0])]
    assert [[op.name for op in layer] for layer in noise.split_layers(ops)] == [["RX"], ["RY"]]
    assert noise.split_layers([]) == [[]]


def two_layer_qfunc(params, wires, n_layers):
    for layer in range(n_layers):
        for q, w in enumerate(wires):
            qml.RY(params[..., layer * len(wires) + q], wires=w)
        qml.CZ(wires=wires[:2])
        qml.Barrier(wires=wires)


def test_with_noise_puts_channel_on_every_wire_after_every_layer():
    with qml.queuing.AnnotatedQueue() as q:
        noise.with_noise(two_layer_qfunc, noise.Noise("amplitude_damping", 0.1))(torch.zeros(4), [0, 1], 2)
    names = [(op.name, list(op.wires)) for op in q.queue]
    layer = [("RY", [0]), ("RY", [1]), ("CZ", [0, 1]), ("AmplitudeDamping", [0]), ("AmplitudeDamping", [1])]
    assert names == layer + layer


def unmarked_qfunc(params, wires, n_layers):
    for layer in range(n_layers):
        qml.RX(params[..., layer], wires=wires[0])


def test_model_refuses_noise_without_layer_marks():
    # An ansatz with three layers and no Barrier: its layers cannot be told apart.
    unmarked = SimpleNamespace(
        name="unmarked", qfunc=unmarked_qfunc, fixed_layers=None, frozen=(), pauli_shift=True,
        shape=lambda n, n_layers: n_layers, groups=lambda n, n_layers: {"layer:0": slice(0, n_layers)},
        sample=lambda gen, s, n, n_layers, init: torch.rand(s, n_layers, generator=gen, dtype=torch.float64))
    with pytest.raises(ValueError, match="'unmarked' marks 1 layer.*has 3"):
        CircuitModel(unmarked, ZZ, 2, 3, "uniform", "engine", torch.float64, 2**20,
                     noise=noise.Noise("depolarizing", 0.1))


def test_full_depolarizing_gives_the_maximally_mixed_cost():
    # p = 3/4 depolarizing maps every qubit to I/2: the local cost is 1/2 whatever θ.
    qc = circuit("tensor_product", 3, cost="local", noise="depolarizing:0.75")
    assert torch.allclose(qc.cost(torch.rand(5, 3, dtype=torch.float64)), torch.full((5,), 0.5, dtype=torch.float64))
    assert qc.describe()["noise"] == "depolarizing:0.75"


@pytest.mark.parametrize("device", ["default.qubit", "lightning.qubit"])
def test_noise_on_a_pure_state_simulator_names_the_devices_that_can(device):
    # PennyLane itself fails only at run time ("DepolarizingChannel not supported"); the model
    # refuses at construction and names default.mixed and the engine.
    with pytest.raises(ValueError, match=rf"device='{device}' simulates pure states; use device='default.mixed'"):
        circuit("random_pauli", n_qubits=2, n_layers=2, noise="depolarizing:0.1", device=device)
