"""Reference path helpers: device opening and differentiation methods."""
import pytest

from qcgrad.quantum import reference


def test_missing_plugin_names_the_package():
    with pytest.raises(ImportError, match="braket.local.qubit.*amazon-braket-pennylane-plugin"):
        reference.open_device("braket.local.qubit", 2)


def test_diff_methods():
    assert reference.diff_method("lightning.qubit") == "adjoint"
    assert reference.diff_method("default.qubit") == "backprop"
    assert reference.diff_method("qiskit.aer") == "parameter-shift"
