"""Reference path helpers: device opening and differentiation methods."""
import math

import pytest
import torch

from qcgrad.quantum import circuit, reference


def test_missing_plugin_names_the_package():
    with pytest.raises(ImportError, match="braket.local.qubit.*amazon-braket-pennylane-plugin"):
        reference.open_device("braket.local.qubit", 2)


def test_diff_methods():
    assert reference.diff_method("lightning.qubit") == "adjoint"
    assert reference.diff_method("default.qubit") == "backprop"
    assert reference.diff_method("qiskit.aer") == "parameter-shift"


def test_shots_ask_for_parameter_shift():
    assert reference.diff_method("default.qubit", shots=100) == "parameter-shift"
    assert reference.diff_method("lightning.qubit", shots=100) == "parameter-shift"


def test_shots_on_a_pennylane_device_sample():
    # default.qubit draws N = 4000 shots per shifted circuit: each partial of ⟨ZZ⟩ has variance
    # ≤ (1 + 1)/(4N), SE ≤ 0.011; allow 5 SE. Samples are not exact: at least one partial differs.
    n = 4000
    theta = torch.tensor([[0.7, 2.1]], dtype=torch.float64)
    exact = circuit("tensor_product", 2, cost="zz").grad(theta)
    sampled = circuit("tensor_product", 2, cost="zz", device="default.qubit", shots=n).grad(theta)
    assert (sampled - exact).abs().max() < 5 * math.sqrt(1 / (2 * n))
    assert not torch.allclose(sampled, exact, atol=1e-12)


def test_device_instances_and_device_options_reach_the_device():
    import pennylane as qml

    theta = torch.tensor([[0.7, 2.1], [0.3, -1.2]], dtype=torch.float64)
    exact = circuit("tensor_product", 2, cost="zz")
    instance = circuit("tensor_product", 2, cost="zz", device=qml.device("lightning.qubit", wires=2))
    assert instance.describe()["device"] == "lightning.qubit"
    torch.testing.assert_close(instance.grad(theta), exact.grad(theta), atol=1e-10, rtol=0)
    # device_options go to qml.device: the same sampling seed gives the same shots, another seed other shots.
    seeded = [circuit("tensor_product", 2, cost="zz", device="default.qubit", shots=50, device_options={"seed": s})
              for s in (7, 7, 8)]
    g = [m.grad(theta) for m in seeded]
    assert torch.equal(g[0], g[1]) and not torch.equal(g[0], g[2])
    assert seeded[0].describe()["device_options"] == {"seed": 7}


@pytest.mark.parametrize("kwargs,error,match", [
    ({"device": "engine", "device_options": {"seed": 1}}, ValueError, "apply to PennyLane devices; the engine"),
    ({"device": "default.qubit", "device_options": {"foo": 1}}, TypeError, "refused device_options=.*foo"),
    ({"device": "default.qubit", "device_options": [1]}, TypeError, "must be a dict"),
    ({"device": "default.qubit", "device_options": {"wires": 3}}, ValueError, "must not set 'wires'"),
    ({"device": 3.5}, TypeError, "must be 'engine', a PennyLane device name or a PennyLane device"),
])
def test_bad_device_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        circuit("tensor_product", 2, cost="zz", **kwargs)


def test_device_instances_must_fit_and_take_no_options():
    import pennylane as qml

    with pytest.raises(ValueError, match="has 3 wires, the circuit has n_qubits=2"):
        circuit("tensor_product", 2, device=qml.device("default.qubit", wires=3))
    with pytest.raises(ValueError, match="already opened"):
        circuit("tensor_product", 2, device=qml.device("default.qubit", wires=2), device_options={"seed": 1})
