"""Tiny Models with known gradients, Fisher metrics and states, for the optim tests."""
from __future__ import annotations

import pennylane as qml
import torch

from qcgrad.model import Model


class Quadratic(Model):
    """cost(θ) = ½ Σ_i (c_i θ_i)² per row (gradient c²·θ); the last entry is a frozen group.

    The cost follows the dtype of its parameters, and its backward pass multiplies by c
    twice, so a small c makes low-precision gradients underflow.
    """

    def __init__(self, c: torch.Tensor):
        self.c = c
        self.n_params = len(c) + 1
        self.param_groups = {"w": slice(0, len(c)), "structure": slice(len(c), len(c) + 1)}
        self.frozen = ("structure",)

    def sample_params(self, generator, n):
        return torch.randn(n, self.n_params, generator=generator, dtype=torch.float64)

    def cost(self, params):
        # the frozen entry enters the cost (it shapes the model) but is never trained
        return 0.5 * ((self.c.to(params.dtype) * params[:, :-1]) ** 2).sum(1) + 0 * params[:, -1]

    def describe(self):
        return {"family": "toy", "n_params": self.n_params}


class LinearGaussian(Model):
    """Outputs X θ on a fixed batch X[B, P], MSE cost: the Fisher is XᵀX/B exactly."""

    likelihood = "gaussian"

    def __init__(self, x: torch.Tensor, y: torch.Tensor):
        self.x, self.y = x, y
        self.n_params = x.shape[1]
        self.param_groups = {"w": slice(0, self.n_params)}

    def sample_params(self, generator, n):
        return torch.randn(n, self.n_params, generator=generator, dtype=torch.float64)

    def forward(self, theta):
        return (self.x @ theta)[:, None]  # [B, k=1]

    def cost(self, params):
        return ((params @ self.x.T - self.y) ** 2).mean(1)

    def describe(self):
        return {"family": "toy", "n_params": self.n_params}


def _rot(kind: str, t: torch.Tensor) -> torch.Tensor:
    """Batched RX/RY matrices exp(−iθG/2): Tensor[S, 2, 2] complex128."""
    c, s = torch.cos(t / 2).to(torch.complex128), torch.sin(t / 2).to(torch.complex128)
    if kind == "RX":
        return torch.stack([torch.stack([c, -1j * s], -1), torch.stack([-1j * s, c], -1)], -2)
    return torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)


class TorchCircuit(Model):
    """A layered rotation circuit simulated in torch: a ``state`` for the QNG tests.

    ``layout`` lists the layers; each layer is a list of (gate, wire) followed by a CZ chain
    when ``entangle``. Group ``"layer:k"`` holds layer k's angles (commuting generators), so
    the block-diagonal metric matches PennyLane's. Cost: ⟨ψ|H|ψ⟩ for a dense ``hamiltonian``.
    """

    def __init__(self, n_qubits: int, layout: list[list[tuple[str, int]]], hamiltonian: torch.Tensor,
                 entangle: bool = True):
        self.n_qubits, self.layout, self.h, self.entangle = n_qubits, layout, hamiltonian, entangle
        sizes = [len(layer) for layer in layout]
        starts = [sum(sizes[:k]) for k in range(len(sizes))]
        self.param_groups = {f"layer:{k}": slice(s, s + m) for k, (s, m) in enumerate(zip(starts, sizes, strict=True))}
        self.n_params = sum(sizes)
        bits = torch.arange(2**n_qubits)[:, None] >> torch.arange(n_qubits - 1, -1, -1) & 1
        self.cz = torch.prod(1 - 2 * (bits[:, :-1] * bits[:, 1:]), dim=1).to(torch.complex128)

    def sample_params(self, generator, n):
        return 2 * torch.pi * torch.rand(n, self.n_params, generator=generator, dtype=torch.float64)

    def state(self, params):
        n, s = self.n_qubits, params.shape[0]
        psi = torch.zeros(s, 2**n, dtype=torch.complex128)
        psi[:, 0] = 1
        k = 0
        for layer in self.layout:
            for gate, wire in layer:
                u = _rot(gate, params[:, k])
                k += 1
                psi = psi.reshape(s, 2**wire, 2, -1)
                psi = torch.einsum("sij,sajb->saib", u, psi).reshape(s, -1)
            if self.entangle:
                psi = psi * self.cz
        return psi

    def cost(self, params):
        psi = self.state(params)
        return torch.einsum("si,ij,sj->s", psi.conj(), self.h.to(psi.dtype), psi).real

    def describe(self):
        return {"family": "toy_circuit", "n_qubits": self.n_qubits}


def tfim(n: int, field: float = 1.0) -> torch.Tensor:
    """Dense open-chain TFIM Hamiltonian −Σ Z_i Z_{i+1} − h Σ X_i (wire 0 = most significant bit)."""
    z = torch.tensor([[1.0, 0.0], [0.0, -1.0]], dtype=torch.float64)
    x = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)

    def site(ops: dict[int, torch.Tensor]) -> torch.Tensor:
        out = torch.ones(1, 1, dtype=torch.float64)
        for w in range(n):
            out = torch.kron(out, ops.get(w, torch.eye(2, dtype=torch.float64)))
        return out

    return (-sum(site({i: z, i + 1: z}) for i in range(n - 1)) - field * sum(site({i: x}) for i in range(n)))


def pennylane_metric_tensor(qc, theta_row: torch.Tensor) -> torch.Tensor:
    """``qml.metric_tensor`` (full, auxiliary wire) of a qcgrad circuit's own PennyLane qfunc.

    The reference for the engine's Fubini–Study metric: rows and columns follow the flat
    parameter vector (frozen gate codes get zero rows, as PennyLane sees no gate argument there).
    """
    dev = qml.device("default.qubit", wires=qc.n_qubits + 1)

    @qml.qnode(dev, interface="torch")
    def node(p):
        qc.ansatz.qfunc(p, qc.wires, qc.n_layers)
        return qml.expval(qml.PauliZ(0))
    return qml.metric_tensor(node, approx=None)(theta_row.clone().requires_grad_(True)).detach()
