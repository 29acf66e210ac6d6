"""Gate builders of the engine against PennyLane's matrices (entry by entry, batched angles)."""
import pennylane as qml
import pytest
import torch

from qcgrad.quantum.engine import BUILDERS

ANGLES = torch.tensor([-2.7, -0.4, 0.0, 0.9, 1.6, 3.1], dtype=torch.float64)


@pytest.mark.parametrize("name", ["RX", "RY", "RZ", "PhaseShift"])
def test_one_angle_gates_match_pennylane(name):
    ours = BUILDERS[name](ANGLES, torch.complex128)
    ref = torch.stack([torch.as_tensor(getattr(qml, name).compute_matrix(float(t))) for t in ANGLES])
    torch.testing.assert_close(ours, ref.to(torch.complex128), rtol=0, atol=1e-14)


def test_rot_matches_pennylane():
    phi, theta, omega = ANGLES, ANGLES.flip(0) * 0.7, ANGLES.roll(2) - 0.3
    ours = BUILDERS["Rot"](phi, theta, omega, torch.complex128)
    ref = torch.stack([torch.as_tensor(qml.Rot.compute_matrix(float(a), float(b), float(c)))
                       for a, b, c in zip(phi, theta, omega, strict=True)])
    torch.testing.assert_close(ours, ref.to(torch.complex128), rtol=0, atol=1e-14)


def test_axis_rotation_is_the_pauli_rotation_its_code_names():
    # AxisRotation(t, code) = exp(−i t P/2) with P = X, Y, Z for code 0, 1, 2 (codes may carry rounding noise).
    for code, gate in enumerate((qml.RX, qml.RY, qml.RZ)):
        codes = torch.full_like(ANGLES, code + 1e-9)
        ours = BUILDERS["AxisRotation"](ANGLES, codes, torch.complex128)
        ref = torch.stack([torch.as_tensor(gate.compute_matrix(float(t))) for t in ANGLES])
        torch.testing.assert_close(ours, ref.to(torch.complex128), rtol=0, atol=1e-14)


def test_builders_return_the_requested_complex_dtype():
    assert BUILDERS["RX"](ANGLES, torch.complex64).dtype == torch.complex64
