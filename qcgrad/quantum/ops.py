"""Operations qcgrad adds to PennyLane's set: the random-axis rotation of ``random_pauli``."""
from __future__ import annotations

import math

import pennylane as qml
import torch

#: Axis codes of :class:`AxisRotation`, stored as floats in random_pauli's frozen "gates" group.
PAULI_CODES = {"RX": 0, "RY": 1, "RZ": 2}


def rot_angles(angle: torch.Tensor, code: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(φ, θ, ω) with Rot(φ, θ, ω) = RX/RY/RZ(angle) for code 0/1/2, exactly.

    Rot(φ, θ, ω) = RZ(ω) RY(θ) RZ(φ), so RX(a) = Rot(π/2, a, −π/2), RY(a) = Rot(0, a, 0)
    and RZ(a) = Rot(a, 0, 0) (matrices equal, not only up to phase; tests check it).
    """
    half_pi = math.pi / 2
    is_x, is_z = code == 0, code == 2
    zero = torch.zeros_like(angle)
    phi = torch.where(is_x, zero + half_pi, torch.where(is_z, angle, zero))
    theta = torch.where(is_z, zero, angle)
    omega = torch.where(is_x, zero - half_pi, zero)
    return phi, theta, omega


class AxisRotation(qml.operation.Operation):
    r"""exp(−iθP/2) about the axis P = X, Y or Z named by a code 0, 1 or 2.

    random_pauli (McClean et al. 2018) draws every gate's axis per sample. With the code as
    data, one broadcast operation per gate holds all samples' choices as two views of the
    parameter tensor (no per-gate copies: recording memory stays small at any depth), and
    the angle enters one Pauli rotation with coefficient 1, so the two-term shift rule is
    exact. Devices without it run its decomposition, one ``qml.Rot``.

    Parameters
    ----------
    theta : tensor_like
        The angle; ``[S]`` when broadcast.
    code : tensor_like
        0 (X), 1 (Y) or 2 (Z), rounded; structure, not differentiated.
    wires : Any
        One wire.

    Examples
    --------
    >>> import torch
    >>> m = qml.matrix(AxisRotation(torch.tensor(0.5), torch.tensor(0.0), wires=0))
    >>> bool(torch.allclose(m, qml.matrix(qml.RX(torch.tensor(0.5), wires=0))))
    True
    """

    num_wires = 1
    num_params = 2
    ndim_params = (0, 0)
    grad_method = "A"
    grad_recipe = ([[0.5, 1.0, math.pi / 2], [-0.5, 1.0, -math.pi / 2]], None)

    @staticmethod
    def compute_matrix(theta, code):
        """The 2×2 matrix exp(−iθP/2) = cos(θ/2)·I − i·sin(θ/2)·P for the axis P that ``code`` names."""
        # c·I − i·s·P with s = sin(θ/2), written with the three axis indicators.
        c, s = qml.math.cos(theta / 2), qml.math.sin(theta / 2)
        code = qml.math.round(code)
        sx, sy, sz = (s * qml.math.cast_like(code == k, s) for k in range(3))
        rows = [qml.math.stack([c - 1j * sz, -sy - 1j * sx], axis=-1),
                qml.math.stack([sy - 1j * sx, c + 1j * sz], axis=-1)]
        return qml.math.stack(rows, axis=-2)

    @staticmethod
    def compute_decomposition(theta, code, wires):
        """The same rotation as one ``qml.Rot`` (angles from ``rot_angles``), for devices without this op."""
        return [qml.Rot(*rot_angles(theta, qml.math.round(code)), wires=wires)]

    def adjoint(self) -> AxisRotation:
        """The inverse rotation: the same axis, angle −θ."""
        return AxisRotation(-self.data[0], self.data[1], wires=self.wires)


__all__ = ["AxisRotation", "PAULI_CODES", "rot_angles"]
