import pytest
import torch
from optim_toys import Quadratic

import qcgrad as qg
from qcgrad.optim.blocks import parameter_blocks


@pytest.mark.parametrize("ansatz,n,layers,expected", [
    # RY on every wire, then RZ on every wire (each depends on the RY before it): two layers per circuit layer
    ("hardware_efficient", 2, 2, [0, 0, 1, 1, 2, 2, 3, 3]),
    # Rot(φ, θ, ω) = RZ RY RZ per wire, walked in PennyLane's order: φ₀ | θ₀ | ω₀ φ₁ | θ₁ | ω₁
    ("strongly_entangling", 2, 1, [0, 1, 2, 2, 3, 4]),
    # random-axis rotations of one layer act on distinct wires; the frozen gate codes have no block
    ("random_pauli", 2, 2, [0, 0, 1, 1, -1, -1, -1, -1]),
    # one (γ, β) drives a gate on every pair / wire: blocks fall back to the layer groups
    ("hva", 3, 2, [0, 0, 1, 1]),
])
def test_parametrized_layers_of_circuits(ansatz, n, layers, expected):
    qc = qg.quantum.circuit(ansatz, n_qubits=n, n_layers=layers, cost="zz")
    assert parameter_blocks(qc).tolist() == expected


def test_models_without_a_circuit_use_their_groups_and_frozen_entries_have_no_block():
    assert parameter_blocks(Quadratic(torch.ones(3))).tolist() == [0, 0, 0, -1]
