import numpy as np
import pennylane as qml
import pytest
import torch
from optim_toys import LinearGaussian, Quadratic, TorchCircuit, tfim

import qcgrad as qg
from qcgrad.optim.metric import (
    fisher_metric,
    fubini_study_metric,
    mixed_state_metric,
    qng_metric,
    row_jacobian,
    state_jacobian,
)

LAYOUT = [[("RX", 0), ("RY", 1)], [("RY", 0), ("RX", 1)], [("RY", 0), ("RY", 1)]]


def _qnode():
    dev = qml.device("default.qubit", wires=3)  # wire 2: the auxiliary wire of the full metric

    @qml.qnode(dev)
    def circuit(p):
        for k, layer in enumerate(LAYOUT):
            for j, (gate, wire) in enumerate(layer):
                getattr(qml, gate)(p[2 * k + j], wires=wire)
            qml.CZ(wires=[0, 1])
        return qml.expval(qml.PauliZ(0))
    return circuit


def test_row_jacobian_real_and_complex():
    p = torch.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=torch.float64)
    _, jac = row_jacobian(lambda q: torch.stack([q[:, 0] * q[:, 1], q[:, 0]], 1), p)
    assert torch.equal(jac, torch.tensor([[[2.0, 1.0], [1.0, 0.0]], [[-1.0, 3.0], [1.0, 0.0]]], dtype=torch.float64))
    _, cjac = row_jacobian(lambda q: torch.exp(1j * q), p)
    assert torch.allclose(cjac, torch.diag_embed(1j * torch.exp(1j * p)))


@pytest.mark.parametrize("approx", ["full", "block-diag", "diag"])
def test_fubini_study_matches_pennylane_metric_tensor(approx):
    model = TorchCircuit(2, LAYOUT, tfim(2))
    theta = torch.tensor([[0.3, 0.7, 1.1, -0.4, 0.9, 0.2], [2.0, -1.0, 0.5, 0.1, -2.2, 1.4]], dtype=torch.float64)
    ours = fubini_study_metric(model, theta, approx)
    pl_approx = {"full": None, "block-diag": "block-diag", "diag": "diag"}[approx]
    for row in range(2):
        p = qml.numpy.array(theta[row].numpy(), requires_grad=True)
        ref = qml.metric_tensor(_qnode(), approx=pl_approx, aux_wire=2)(p)
        np.testing.assert_allclose(ours[row].numpy(), ref, rtol=0, atol=1e-12)


def test_fisher_of_linear_gaussian_is_gram_matrix():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    model = LinearGaussian(x, torch.zeros(5, dtype=torch.float64))
    f = fisher_metric(model, torch.randn(2, 3, generator=gen, dtype=torch.float64))
    assert torch.allclose(f, (x.T @ x / 5).expand(2, 3, 3), rtol=0, atol=1e-14)


def test_fisher_of_softmax_matches_hand_formula():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(4, 2, generator=gen, dtype=torch.float64)

    class Softmax(LinearGaussian):
        likelihood = "softmax"

        def forward(self, theta):  # logits [B, 3] from a 2x3 weight
            return self.x @ theta.view(2, 3)

    model = Softmax(x, torch.zeros(4))
    model.n_params = 6
    theta = torch.randn(1, 6, generator=gen, dtype=torch.float64)
    f = fisher_metric(model, theta)[0]
    expected = torch.zeros(6, 6, dtype=torch.float64)
    for xb in x:
        p = torch.softmax(xb @ theta[0].view(2, 3), -1)
        jac = torch.kron(xb[None, :], torch.eye(3, dtype=torch.float64))  # d logits / d vec(W)
        expected += jac.T @ (torch.diag(p) - torch.outer(p, p)) @ jac / 4
    assert torch.allclose(f, expected, rtol=0, atol=1e-14)


def test_metric_errors_name_what_is_missing():
    quad = Quadratic(torch.ones(2))
    with pytest.raises(TypeError, match="state"):
        fubini_study_metric(quad, torch.zeros(1, 3))
    with pytest.raises(TypeError, match="forward"):
        fisher_metric(quad, torch.zeros(1, 3))
    with pytest.raises(ValueError, match="block-diag"):
        fubini_study_metric(TorchCircuit(2, LAYOUT, tfim(2)), torch.zeros(1, 6), "kfac")


def _pennylane_metric(qc, theta_row: torch.Tensor, approx: str | None) -> torch.Tensor:
    """``qml.metric_tensor`` of a qcgrad circuit's own qfunc on default.qubit (wire n: auxiliary)."""
    dev = qml.device("default.qubit", wires=qc.n_qubits + 1)

    @qml.qnode(dev, interface="torch")
    def node(p):
        qc.ansatz.qfunc(p, qc.wires, qc.ansatz.fixed_layers or qc.n_layers)
        return qml.expval(qml.PauliZ(0))
    return qml.metric_tensor(node, approx=approx)(theta_row.clone().requires_grad_(True)).detach()


@pytest.mark.parametrize("ansatz,n,layers,approx", [
    ("hardware_efficient", 3, 2, "full"), ("hardware_efficient", 3, 2, "block-diag"),
    ("hardware_efficient", 3, 2, "diag"), ("strongly_entangling", 2, 2, "block-diag"),
])
def test_engine_circuit_metric_matches_pennylane(ansatz, n, layers, approx):
    # the engine's shifted-state Jacobian and the parametrized-layer blocks against PennyLane's own
    # metric_tensor (Hadamard tests with an auxiliary wire for the full metric)
    qc = qg.quantum.circuit(ansatz, n_qubits=n, n_layers=layers, cost="tfim")
    theta = qc.sample_params(torch.Generator().manual_seed(4), 2)
    ours = fubini_study_metric(qc, theta, approx)
    for row in range(2):
        ref = _pennylane_metric(qc, theta[row], None if approx == "full" else approx)
        assert torch.allclose(ours[row], ref, rtol=0, atol=1e-10)


def test_state_jacobian_by_shifts_equals_finite_differences():
    # central differences of the engine's state, O(h²) = 1e-10 truncation at h = 1e-5 plus
    # 1e-16/h = 1e-11 rounding: 1e-8 is loose enough and still fails for a wrong column
    qc = qg.quantum.circuit("hardware_efficient", n_qubits=2, n_layers=2, cost="tfim")
    theta = qc.sample_params(torch.Generator().manual_seed(5), 2)
    _, jac = state_jacobian(qc, theta)
    h = 1e-5
    for k in range(qc.n_params):
        e = torch.zeros(qc.n_params, dtype=torch.float64)
        e[k] = h
        fd = (qc.state(theta + e) - qc.state(theta - e)) / (2 * h)
        assert torch.allclose(jac[:, :, k], fd, rtol=0, atol=1e-8)


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.75])
def test_mixed_state_metric_under_depolarizing_noise_is_r_squared_over_four(p):
    # RX(θ)|0⟩ then depolarizing p: Bloch vector of length r = 1 − 4p/3 rotated about x, orthogonal to
    # it; the qubit QFI |∂r|² + (r·∂r)²/(1 − r²) (Liu et al. 2020, J. Phys. A 53, 023001, qubit case)
    # is r², so ¼ QFI = r²/4
    qc = qg.quantum.circuit("tensor_product", n_qubits=1, cost="local", noise=f"depolarizing:{p}")
    g = mixed_state_metric(qc, torch.tensor([[0.3], [2.1]], dtype=torch.float64))
    assert torch.allclose(g, torch.full_like(g, (1 - 4 * p / 3) ** 2 / 4), rtol=0, atol=1e-12)


@pytest.mark.parametrize("gamma", [0.2, 0.6])
def test_mixed_state_metric_under_amplitude_damping_matches_the_bloch_formula(gamma):
    # RX(θ)|0⟩ then amplitude damping γ: r = (0, −√(1−γ) sin θ, γ + (1−γ) cos θ), not orthogonal to
    # ∂r, so both terms of the qubit QFI |∂r|² + (r·∂r)²/(1 − |r|²) count
    qc = qg.quantum.circuit("tensor_product", n_qubits=1, cost="local", noise=f"amplitude_damping:{gamma}")
    theta = torch.tensor([0.4, 1.3, 2.8], dtype=torch.float64)
    r = torch.stack([-(1 - gamma) ** 0.5 * torch.sin(theta), gamma + (1 - gamma) * torch.cos(theta)])
    dr = torch.stack([-(1 - gamma) ** 0.5 * torch.cos(theta), -(1 - gamma) * torch.sin(theta)])
    qfi = (dr**2).sum(0) + (r * dr).sum(0) ** 2 / (1 - (r**2).sum(0))
    g = mixed_state_metric(qc, theta[:, None])
    assert torch.allclose(g[:, 0, 0], qfi / 4, rtol=0, atol=1e-12)


def test_mixed_state_metric_of_a_pure_state_is_pennylanes_fubini_study_metric():
    noiseless = qg.quantum.circuit("hardware_efficient", n_qubits=2, n_layers=2, cost="tfim", noise="depolarizing:0")
    theta = noiseless.sample_params(torch.Generator().manual_seed(6), 1)
    ref = _pennylane_metric(noiseless, theta[0], None)
    assert torch.allclose(mixed_state_metric(noiseless, theta)[0], ref, rtol=0, atol=1e-10)


def test_noisy_circuit_never_gets_the_noiseless_metric():
    noisy = qg.quantum.circuit("tensor_product", n_qubits=1, cost="local", noise="depolarizing:0.3")
    theta = torch.zeros(1, 1, dtype=torch.float64)
    with pytest.raises(ValueError, match="mixed_state_metric"):
        fubini_study_metric(noisy, theta)
    assert qng_metric(noisy, theta, "full").item() == pytest.approx(0.6**2 / 4, abs=1e-12)
    with pytest.raises(TypeError, match="noise"):
        mixed_state_metric(qg.quantum.circuit("tensor_product", n_qubits=1, cost="local"), theta)
