import math

import torch
from optim_toys import TorchCircuit, pennylane_metric_tensor, tfim

import qcgrad as qg
from qcgrad.diagnostics import metric_spectrum


def test_single_qubit_rx_ry_metric_spectrum():
    model = TorchCircuit(1, [[("RX", 0)], [("RY", 0)]], tfim(1), entangle=False)
    theta = torch.tensor([[0.4, 1.0]], dtype=torch.float64)
    # closed form diag(1/4, cos²θ₁/4) (¼ of each generator's variance), decreasing order
    assert torch.allclose(metric_spectrum(model, theta)[0],
                          torch.tensor([0.25, math.cos(0.4) ** 2 / 4], dtype=torch.float64), atol=1e-14)


def test_random_pauli_metric_spectrum_matches_pennylane_metric_tensor():
    qc = qg.quantum.circuit("random_pauli", n_qubits=3, n_layers=2, cost="zz")
    theta = qc.sample_params(torch.Generator().manual_seed(0), 2)
    spectrum = metric_spectrum(qc, theta)
    for row in range(2):
        ref = torch.linalg.eigvalsh(pennylane_metric_tensor(qc, theta[row])).flip(0)
        assert torch.allclose(spectrum[row], ref, atol=1e-12)
    # the 6 frozen gate codes do not move the state: at least 6 zero eigenvalues per run
    assert ((spectrum.abs() < 1e-12).sum(dim=1) >= 6).all()


def test_tensor_product_metric_spectrum_is_a_quarter_everywhere():
    # RX(θ_i) on |0⟩ of each qubit: generator X has variance 1 in |0⟩, so g = I/4 for every θ
    qc = qg.quantum.circuit("tensor_product", n_qubits=3, cost="local")
    theta = qc.sample_params(torch.Generator().manual_seed(1), 3)
    assert torch.allclose(metric_spectrum(qc, theta), torch.full((3, 3), 0.25, dtype=torch.float64), atol=1e-14)
