import pytest
import torch

import qcgrad as qg
from qcgrad.diagnostics import lyapunov_spectrum


def test_diagonal_product_gives_log_entries():
    mats = torch.diag(torch.tensor([3.0, 0.5, 1.0], dtype=torch.float64)).expand(7, 3, 3)
    assert torch.allclose(lyapunov_spectrum(mats), torch.log(torch.tensor([3.0, 1.0, 0.5], dtype=torch.float64)))


def test_long_product_does_not_underflow():
    mats = (1e-3 * torch.eye(2, dtype=torch.float32)).expand(500, 2, 2)  # product is 1e-1500
    assert torch.allclose(lyapunov_spectrum(mats), torch.full((2,), torch.log(torch.tensor(1e-3)).item()))


def test_orthogonal_deep_linear_model_has_zero_exponents():
    net = qg.classical.deep_linear(depth=6, width=3)
    theta = net.sample_params(torch.Generator().manual_seed(0), 1)[0]
    assert torch.allclose(lyapunov_spectrum(net, theta), torch.zeros(3, dtype=torch.float64), atol=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="square"):
        lyapunov_spectrum(torch.zeros(3, 2, 4))
    with pytest.raises(ValueError, match="params"):
        lyapunov_spectrum(qg.classical.deep_linear(depth=2, width=2))
