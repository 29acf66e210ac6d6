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
