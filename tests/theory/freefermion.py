"""The free-fermion (matchgate) circuit of the theory tests, written as a user circuit."""
from __future__ import annotations

import pennylane as qml

import qcgrad as qg


def free_fermion(n: int, n_layers: int):
    """RX on every qubit and IsingZZ on the chain pairs, each gate its own parameter; O = Z0 Z1."""

    def layer(angles, wires):
        for q in range(n):
            qml.RX(angles[q], wires=wires[q])
        for q in range(n - 1):
            qml.IsingZZ(angles[n + q], wires=[wires[q], wires[q + 1]])

    return qg.quantum.circuit(layer, n_qubits=n, n_layers=n_layers, angles_per_layer=2 * n - 1,
                              cost=qml.Z(0) @ qml.Z(1))
