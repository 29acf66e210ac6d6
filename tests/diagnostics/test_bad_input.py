"""Every diagnostic refuses non-finite or wrongly shaped input before any linear algebra.

NaN reaching LAPACK/MKL is undefined behaviour (gershgorin of a NaN matrix crashed the
process in an eigenvalue routine): each test here would crash or return NaN without the check.
"""
import math

import pytest
import torch

import qcgrad as qg
from qcgrad import diagnostics as dg

NAN = float("nan")


def test_gershgorin_refuses_nan_and_inf():
    with pytest.raises(ValueError, match="jacobian has 9 non-finite entries"):
        dg.gershgorin(torch.full((3, 3), NAN))
    with pytest.raises(ValueError, match="jacobian has 1 non-finite entries"):
        dg.gershgorin(torch.tensor([[0.5, math.inf], [0.0, 0.1]]))
    with pytest.raises(ValueError, match="jacobian has shape \\(2, 3\\)"):
        dg.gershgorin(torch.zeros(2, 3))


def test_transient_growth_refuses_nan():
    with pytest.raises(ValueError, match="weight has 1 non-finite"):
        dg.transient_growth(torch.tensor([[NAN, 0.0], [0.0, 0.5]]))


def test_rnn_jacobian_refuses_nan_and_a_bias_of_the_wrong_length():
    with pytest.raises(ValueError, match="weight has 1 non-finite"):
        dg.rnn_jacobian(torch.tensor([[NAN, 0.0], [0.0, 0.5]]))
    with pytest.raises(ValueError, match="bias has shape \\(3,\\); expected Tensor\\[2\\]"):
        dg.rnn_jacobian(torch.eye(2), torch.zeros(3))


def test_lyapunov_spectrum_refuses_nan():
    mats = torch.eye(2).expand(4, 2, 2).clone()
    mats[2, 0, 1] = NAN
    with pytest.raises(ValueError, match="mats has 1 non-finite"):
        dg.lyapunov_spectrum(mats)


def test_log_product_norm_refuses_nan_and_a_vector_of_the_wrong_length():
    with pytest.raises(ValueError, match="factors has 1 non-finite"):
        dg.log_product_norm(torch.tensor([0.5, NAN]))
    with pytest.raises(ValueError, match="vector has shape \\(3,\\); expected Tensor\\[2\\]"):
        dg.log_product_norm(torch.eye(2).expand(3, 2, 2), torch.ones(3))


def test_metric_spectrum_refuses_nan_params():
    qc = qg.quantum.circuit("hardware_efficient", n_qubits=2, n_layers=1)
    params = qc.sample_params(torch.Generator().manual_seed(0), 1)
    params[0, 0] = NAN
    with pytest.raises(ValueError, match="params has 1 non-finite"):
        dg.metric_spectrum(qc, params)


@pytest.fixture(scope="module")
def net():
    return qg.classical.mlp(depth=3, width=4)


def test_parameter_shapes_are_checked(net):
    with pytest.raises(ValueError, match=f"params has shape \\(3,\\); expected Tensor\\[n, {net.n_params}\\]"):
        dg.dead_fraction(net, torch.zeros(3))
    with pytest.raises(ValueError, match=f"params has shape \\(2, 5\\); expected Tensor\\[n, {net.n_params}\\]"):
        dg.underflow_report(net, torch.zeros(2, 5))
    n = net.n_params
    with pytest.raises(ValueError, match=f"params has shape \\(1, {n}\\); expected Tensor\\[{n}\\]"):
        dg.layer_norms(net, torch.zeros(1, net.n_params))
    with pytest.raises(ValueError, match="params has 1 non-finite"):
        bad = torch.zeros(net.n_params, dtype=torch.float64)
        bad[3] = NAN
        dg.lyapunov_spectrum(net, bad)


def test_jacobian_spectrum_refuses_zero_inits_and_a_non_finite_jacobian(net):
    with pytest.raises(ValueError, match="n_inits=0 is not allowed; it must be an int ≥ 1"):
        dg.jacobian_spectrum(net, n_inits=0)
    huge = qg.classical.mlp(depth=8, width=4, init="normal", std=1e200, activation="linear")
    with pytest.raises(ValueError, match="input-output Jacobian has .* non-finite entries"):
        dg.jacobian_spectrum(huge, n_inits=2)


def test_checkpointed_cost_refuses_a_batch_of_parameter_vectors(net):
    n = net.n_params
    with pytest.raises(ValueError, match=f"theta has shape \\(2, {n}\\); expected Tensor\\[{n}\\]"):
        dg.checkpointed_cost(net, torch.zeros(2, net.n_params, dtype=torch.float64))
