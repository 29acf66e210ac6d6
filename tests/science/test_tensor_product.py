"""Cerezo 2021 tensor-product ansatz: closed-form gradient variances, global vs local cost.

C_G = 1 − Πᵢ cos²(θᵢ/2), C_L = 1 − (1/n) Σᵢ cos²(θᵢ/2) with θ ~ U[0, 2π) give
Var[∂C_G/∂θ₁] = (1/8)(3/8)^(n−1) (exponential decay) and Var[∂C_L/∂θ₁] = 1/(8n²).
"""
import pytest

import qcgrad as qg

S = 20000
# Tolerance: 4 standard errors of the unbiased variance, SE = Var·sqrt((κ−1)/S) with κ the
# sample kurtosis of the S gradients (global: κ grows like (4/3)^n, a heavy tail).
Z = 4.0


def _variance_and_se(model):
    g = qg.per_sample_gradients(model, S, seed=2021, params="first")[:, 0]
    var = g.var().item()
    c = g - g.mean()
    kurt = ((c**4).mean() / (c**2).mean() ** 2).item()
    return var, var * ((kurt - 1) / S) ** 0.5


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_global_cost_variance_decays_as_three_eighths_to_the_n(n):
    var, se = _variance_and_se(qg.quantum.circuit("tensor_product", n, cost="global"))
    assert abs(var - (1 / 8) * (3 / 8) ** (n - 1)) < Z * se


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_local_cost_variance_decays_as_one_over_eight_n_squared(n):
    var, se = _variance_and_se(qg.quantum.circuit("tensor_product", n, cost="local"))
    assert abs(var - 1 / (8 * n**2)) < Z * se
