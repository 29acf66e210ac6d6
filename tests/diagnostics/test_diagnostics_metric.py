import math

import torch

from optim_toys import TorchCircuit, tfim
from qcgrad.diagnostics import metric_spectrum


def test_single_qubit_rx_ry_metric_spectrum():
    model = TorchCircuit(1, [[("RX", 0)], [("RY", 0)]], tfim(1), entangle=False)
    theta = torch.tensor([[0.4, 1.0]], dtype=torch.float64)
    # closed form diag(1/4, cos²θ₁/4) (¼ of each generator's variance), decreasing order
    assert torch.allclose(metric_spectrum(model, theta)[0],
                          torch.tensor([0.25, math.cos(0.4) ** 2 / 4], dtype=torch.float64), atol=1e-14)
