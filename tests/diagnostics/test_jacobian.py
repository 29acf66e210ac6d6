import pytest
import torch

import qcgrad as qg
from qcgrad.diagnostics import jacobian_spectrum, layer_norms


def test_orthogonal_is_isometric_and_gaussian_condition_grows_with_depth():
    for depth in (2, 8):
        spec = jacobian_spectrum(qg.classical.deep_linear(depth=depth, width=4), n_inits=4)
        assert torch.allclose(spec.singular_values, torch.ones(4, 4, dtype=torch.float64))
        assert torch.allclose(spec.isometry, torch.zeros(4, dtype=torch.float64), atol=1e-12)
    conds = [jacobian_spectrum(qg.classical.deep_linear(depth=d, width=4, init="normal", std=0.5),
                               n_inits=16, seed=0).condition.log().median().item() for d in (2, 8, 32)]
    assert conds[0] < conds[1] < conds[2]


def test_layer_norms_bound_the_true_norm_and_match_linear_product():
    net = qg.classical.deep_linear(depth=4, width=3, init="normal", std=0.5)
    theta = net.sample_params(torch.Generator().manual_seed(1), 1)[0]
    out = layer_norms(net, theta)
    weights = [w.view(3, 3) for w in theta.split(9)]
    product = weights[3] @ weights[2] @ weights[1] @ weights[0]
    assert out["true_norm"] == pytest.approx(torch.linalg.matrix_norm(product, ord=2).item(), rel=1e-12)
    assert out["true_norm"] <= out["product_bound"] * (1 + 1e-12)


def test_circuit_like_model_rejected():
    with pytest.raises(TypeError, match="classical"):
        jacobian_spectrum(_NoForward())


class _NoForward(qg.Model):
    n_params, param_groups = 1, {"w": slice(0, 1)}

    def sample_params(self, generator, n):
        return torch.zeros(n, 1)

    def cost(self, params):
        return params[:, 0]

    def describe(self):
        return {}
