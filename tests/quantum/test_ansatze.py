"""Ansatz definitions: the Rot encoding of random_pauli gates, shapes and sampling."""
import math

import pennylane as qml
import torch

from qcgrad.quantum.ansatze import PAULI_CODES, RANDOM_PAULI, TENSOR_PRODUCT, rot_angles


def test_rot_encoding_equals_rx_ry_rz_exactly():
    a = torch.tensor([0.0, 0.4, 2.5, 6.1], dtype=torch.float64)
    for name, code in PAULI_CODES.items():
        phi, theta, omega = rot_angles(a, torch.full_like(a, code))
        rot = qml.matrix(qml.Rot(phi, theta, omega, wires=0))
        ref = qml.matrix(getattr(qml, name)(a, wires=0))
        torch.testing.assert_close(torch.as_tensor(rot), torch.as_tensor(ref), atol=1e-15, rtol=0)


def test_shapes_and_sampling():
    assert RANDOM_PAULI.shape(3, 5) == 30 and TENSOR_PRODUCT.shape(3, 5) == 3
    p = RANDOM_PAULI.sample(torch.Generator().manual_seed(0), 50, 3, 5, "uniform")
    angles, codes = p[:, :15], p[:, 15:]
    assert 0 <= angles.min() and angles.max() < 2 * math.pi
    assert set(codes.unique().tolist()) == {0.0, 1.0, 2.0}
    small = TENSOR_PRODUCT.sample(torch.Generator().manual_seed(0), 50, 3, 1, "small_angle")
    assert small.abs().max() <= 0.1
