"""Residual connections against vanishing gradients: decay rates and the zero-γ identity."""
import warnings
from functools import partial

import torch
from torch.func import jacrev

import qcgrad as qg

DEPTHS = [2, 6, 12, 25, 50]


def _scan(build):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # heavy tails at depth are expected; the CIs carry them
        return qg.scan(build, DEPTHS, n_samples=100, seed=0)


def test_residual_net_decays_at_least_ten_times_slower_than_a_plain_sigmoid_mlp():
    plain = _scan(lambda d: qg.classical.mlp(depth=d, width=16, activation="sigmoid", init="xavier"))
    residual = _scan(lambda d: qg.classical.resnet(depth=d, width=16, activation="sigmoid", init="xavier"))
    # At depth 50 the plain net's first-layer variance is orders of magnitude below the residual
    # net's, far outside both bootstrap intervals.
    assert plain.estimates[-1].ci[1] < 1e-6 * residual.estimates[-1].ci[0]
    p_fit, r_fit = plain.fit(kind="exponential"), residual.fit(kind="exponential")
    # Rates with their 95 % intervals: the plain net's lowest plausible rate is still more than
    # 10× the largest plausible |rate| of the residual net (which may even grow slightly).
    assert p_fit.rate_ci[0] > 0
    assert max(abs(r_fit.rate_ci[0]), abs(r_fit.rate_ci[1])) < p_fit.rate_ci[0] / 10


def test_zero_gamma_resnet_has_the_identity_as_input_output_jacobian():
    for kind in ("fc", "conv"):
        net = qg.classical.resnet(depth=6, width=4, kind=kind, batchnorm=True, zero_gamma=True,
                                  length=5, batch_size=3)
        for theta in net.sample_params(torch.Generator().manual_seed(0), 2):
            jac = jacrev(partial(net.forward, theta))(net.inputs)
            n = net.inputs.numel()
            assert torch.equal(jac.reshape(n, n), torch.eye(n, dtype=torch.float64))
