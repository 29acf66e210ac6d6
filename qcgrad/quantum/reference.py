"""The reference path: the same quantum function on a PennyLane device, one QNode per model.

Slow (one device execution per sample) but independent of the engine: any PennyLane device
(``default.qubit``, ``lightning.qubit``, ``default.mixed``, plugin devices) runs the circuit,
and its gradients come from the device's own differentiation method. This is also the
hardware path: a plugin device name (``qiskit.aer``, ``qiskit.remote``, ``braket.aws.qubit``,
...) with ``shots`` runs parameter shift on the device's sampled expectations.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable

import pennylane as qml
import torch

#: Plugin prefix -> the pip package that provides its devices.
PLUGIN_PACKAGES = {
    "lightning.gpu": "pennylane-lightning-gpu", "lightning.kokkos": "pennylane-lightning-kokkos",
    "lightning.tensor": "pennylane-lightning-tensor", "lightning": "pennylane-lightning",
    "qiskit": "pennylane-qiskit", "braket": "amazon-braket-pennylane-plugin",
    "cirq": "pennylane-cirq", "qulacs": "pennylane-qulacs",
}


def open_device(name: str, n_qubits: int) -> Any:
    """``qml.device(name, wires=n_qubits)``, with an error naming the package to install.

    Raises
    ------
    ImportError
        When no installed plugin provides ``name``.
    """
    try:
        return qml.device(name, wires=n_qubits)
    except (qml.exceptions.DeviceError, ImportError) as err:
        package = next((pkg for prefix, pkg in PLUGIN_PACKAGES.items() if name.startswith(prefix)), None)
        hint = f"install {package!r}" if package else "install the PennyLane plugin that provides it"
        raise ImportError(f"device={name!r} is not available ({err}); {hint}, or use device='engine' "
                          "or an installed PennyLane device such as 'default.qubit'") from err


def diff_method(name: str, shots: int | None = None) -> str:
    """The differentiation method a device is asked for: parameter shift with finite shots
    or on plugin devices (hardware), adjoint on lightning, backprop on PennyLane's Python
    simulators.

    Examples
    --------
    >>> diff_method("default.qubit"), diff_method("default.qubit", shots=100)
    ('backprop', 'parameter-shift')
    """
    if shots is not None:
        return "parameter-shift"
    if name.startswith("lightning."):
        return "adjoint"
    if name in ("default.qubit", "default.mixed"):
        return "backprop"
    return "parameter-shift"


def qnode(device: Any, name: str, qfunc: Callable, wires: list, n_layers: int, measurement: Callable,
          shots: int | None = None) -> Any:
    """A torch-interface QNode of ``qfunc`` returning ``measurement()`` on ``device``,
    estimated from ``shots`` samples per execution (None: exact, where the device can)."""

    def circuit(params: torch.Tensor):
        qfunc(params, wires, n_layers)
        return measurement()

    return qml.QNode(circuit, device, interface="torch", diff_method=diff_method(name, shots), shots=shots)


@contextlib.contextmanager
def _float64_default():
    # Some devices (lightning) return Python floats, which the torch interface turns into the
    # default dtype: float32 would cost 8 digits of the reference values.
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def per_sample(node: Any, params: torch.Tensor, with_grad: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Run ``node`` on every row of ``params``; optionally the per-row gradient too."""
    with _float64_default():
        return _per_sample(node, params, with_grad)


def _per_sample(node: Any, params: torch.Tensor, with_grad: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    values, grads = [], []
    for row in params:
        p = row.detach().clone().requires_grad_(with_grad)
        value = node(p)
        if with_grad:
            (g,) = torch.autograd.grad(value, p, allow_unused=True)
            grads.append(torch.zeros_like(p) if g is None else g)
        values.append(value.detach())
    return torch.stack(values), (torch.stack(grads) if with_grad else None)
