import numpy as np
import pennylane as qml
import pytest
import torch

from optim_toys import LinearGaussian, Quadratic, TorchCircuit, tfim
from qcgrad.optim.metric import fisher_metric, fubini_study_metric, row_jacobian

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
