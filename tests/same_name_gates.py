"""A circuit whose parameter-free gates share names but not matrices, and its reference state."""
import pennylane as qml
import torch


def same_name_gates(wires):
    # Parameter-free gates whose matrices differ under one name, on the same wires, and two
    # different diagonal QubitUnitaries on one wire: matrix caches must tell them apart.
    qml.Hadamard(wires[0])
    qml.Hadamard(wires[1])
    qml.RX(0.3, wires=wires[2])
    qml.MultiControlledX(wires=wires[:3], control_values=[0, 1])
    qml.MultiControlledX(wires=wires[:3], control_values=[1, 1])
    qml.prod(qml.X(wires[0]), qml.Z(wires[1]))
    qml.prod(qml.Y(wires[1]), qml.Z(wires[2]))
    qml.QubitUnitary(torch.diag(torch.tensor([1, 1j], dtype=torch.complex128)), wires=wires[1])
    qml.Hadamard(wires[1])
    qml.QubitUnitary(torch.diag(torch.tensor([1j, -1], dtype=torch.complex128)), wires=wires[1])


def same_name_reference(wires):
    @qml.qnode(qml.device("default.qubit", wires=wires))
    def state():
        same_name_gates(wires)
        return qml.state()

    return torch.as_tensor(state())
