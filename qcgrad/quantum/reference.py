"""The reference path: the same quantum function on a PennyLane device, one QNode per model.

Slow (one device execution per sample) but independent of the engine: any PennyLane device
(``default.qubit``, ``lightning.qubit``, ``default.mixed``, plugin devices) runs the circuit,
and its gradients come from the device's own differentiation method. This is also the
hardware path: a plugin device name (``qiskit.aer``, ``qiskit.remote``, ``braket.aws.qubit``,
...) with ``shots`` runs parameter shift on the device's sampled expectations.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pennylane as qml
import torch

if TYPE_CHECKING:
    from .shots import ShotDecomposition

#: Plugin prefix -> the pip package that provides its devices.
PLUGIN_PACKAGES = {
    "lightning.gpu": "pennylane-lightning-gpu", "lightning.kokkos": "pennylane-lightning-kokkos",
    "lightning.tensor": "pennylane-lightning-tensor", "lightning": "pennylane-lightning",
    "qiskit": "pennylane-qiskit", "braket": "amazon-braket-pennylane-plugin",
    "cirq": "pennylane-cirq", "qulacs": "pennylane-qulacs",
}


def open_device(device: Any, n_qubits: int, options: dict[str, Any] | None = None) -> Any:
    """The PennyLane device a model runs on: ``qml.device(device, wires=n_qubits, **options)``
    for a name, or ``device`` itself for a device instance.

    Parameters
    ----------
    device : str or qml.devices.Device
        A device name (``"default.qubit"``, ``"qiskit.aer"``, ...) or an opened device with
        ``n_qubits`` wires (or none declared).
    n_qubits : int
    options : dict, optional
        Keyword arguments of ``qml.device`` for a name (``backend=``, ``noise_model=``, ...).

    Raises
    ------
    ImportError
        When no installed plugin provides ``device``.
    TypeError, ValueError
        For options with an instance, options the device refuses, or a device whose wires
        do not fit the circuit.

    Examples
    --------
    >>> open_device("default.qubit", 2, {"seed": 7}).name
    'default.qubit'
    """
    if isinstance(device, qml.devices.Device):
        if options:
            raise ValueError(f"device_options={options!r} apply to a device name; {device.name!r} is already "
                             "opened (pass its options to qml.device)")
        if device.wires is not None and len(device.wires) != n_qubits:
            raise ValueError(f"device {device.name!r} has {len(device.wires)} wires, the circuit has n_qubits="
                             f"{n_qubits}; open it with wires={n_qubits}")
        return device
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"device_options={options!r} must be a dict of qml.device keyword arguments")
    if "wires" in (options or {}):
        raise ValueError("device_options must not set 'wires': the circuit's n_qubits sets them")
    try:
        return qml.device(device, wires=n_qubits, **(options or {}))
    except (qml.exceptions.DeviceError, ImportError) as err:
        package = next((pkg for prefix, pkg in PLUGIN_PACKAGES.items() if device.startswith(prefix)), None)
        hint = f"install {package!r}" if package else "install the PennyLane plugin that provides it"
        raise ImportError(f"device={device!r} is not available ({err}); {hint}, or use device='engine' "
                          "or an installed PennyLane device such as 'default.qubit'") from err
    except TypeError as err:
        raise TypeError(f"device={device!r} refused device_options={options!r}: {err}") from err


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


def device_decomposition(model: Any, params: torch.Tensor, index: int) -> ShotDecomposition:
    """Landscape/shot-noise split of a device's own finite-shot gradient ∂C/∂θ_index.

    The device (``model.device``, e.g. ``qiskit.aer`` with a noise model, or hardware) runs the
    two shifted circuits of every row of ``params`` with ``model.shots`` = N shots each, so
    ĝ = (Ĉ₊ − Ĉ₋)/2. For a cost with eigenvalues ±1 (a Pauli word such as ``zz``) the shot
    variance of Ĉ is (1 − C²)/N, estimated without bias by (1 − Ĉ²)/(N − 1); the landscape
    variance of the device's exact gradient is then measured − mean shot variance (law of
    total variance). Compare :func:`qcgrad.quantum.decompose_variance`, which takes the exact
    probabilities of the engine instead.

    Parameters
    ----------
    model : CircuitModel
        On a PennyLane device, with ``shots`` and a ±1-valued diagonal cost.
    params : Tensor[S, n_params]
        S ≥ 2 parameter samples.
    index : int
        The partial derivative.

    Returns
    -------
    ShotDecomposition
        ``measured`` the sample variance of ĝ, ``shot_noise`` its estimated mean shot
        variance, ``landscape`` their difference (noisy for small S; may come out < 0).
    """
    from .shots import ShotDecomposition, shift_rows

    if model.device == "engine" or model.shots is None:
        raise ValueError(f"device_decomposition needs a PennyLane device with shots; got device={model.device!r}, "
                         f"shots={model.shots!r} (on the engine use qcgrad.quantum.decompose_variance)")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < model.n_params:
        raise ValueError(f"index={index!r} is out of range; it must be an int in [0, {model.n_params})")
    if params.dim() != 2 or params.shape[0] < 2:
        raise ValueError(f"params of shape {tuple(params.shape)}: need [S, n_params] with S ≥ 2 samples")
    diagonal = model.diagonal
    if diagonal is None or not bool((diagonal.abs() == 1).all()):
        raise ValueError(f"cost={model.cost_spec.name!r} is not a ±1-valued diagonal observable (a Pauli Z word "
                         "such as 'zz'); its shot variance needs ⟨O²⟩ as well")
    n = model.shots
    values = model.cost(shift_rows(params, torch.tensor([index]))).view(2, -1)
    g = (values[0] - values[1]) / 2
    shot = ((1 - values[0] ** 2) + (1 - values[1] ** 2)) / (4 * (n - 1))
    measured, shot_noise = float(g.var()), float(shot.mean())
    return ShotDecomposition(landscape=measured - shot_noise, shot_noise=shot_noise, measured=measured, shots=n)
