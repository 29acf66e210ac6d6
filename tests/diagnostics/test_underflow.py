import math

import torch

from qcgrad.diagnostics import log_product_norm, underflow_report
from qcgrad.model import Model


class Chain(Model):
    """cost = Σ_j θ_j · 0.1^{k_j}, the product formed by repeated multiplication in the params' dtype."""

    def __init__(self, lengths):
        self.lengths = lengths
        self.n_params = len(lengths)
        self.param_groups = {f"layer:{j}": slice(j, j + 1) for j in range(len(lengths))}

    def sample_params(self, generator, n):
        return torch.ones(n, self.n_params, dtype=torch.float64)

    def cost(self, params):
        total = 0
        for j, k in enumerate(self.lengths):
            factor = torch.ones((), dtype=params.dtype)
            for _ in range(k):
                factor = factor * 0.1
            total = total + params[:, j] * factor
        return total

    def describe(self):
        return {"family": "chain"}


def test_float32_underflows_long_before_float64_and_detector_reports_it():
    # 0.1^50 ≈ 1e-50: below float32's smallest subnormal (1.4e-45), far above float64's (4.9e-324)
    model = Chain([10, 50, 400])
    report = underflow_report(model, torch.ones(2, 3))
    assert report.by_group == {"layer:0": 0.0, "layer:1": 1.0, "layer:2": 0.0}
    assert report.fraction == 1 / 3
    assert report.zero64 == 1 / 3  # 0.1^400 underflows float64 too


def test_log_domain_survives_where_float32_and_float64_underflow():
    factors = torch.full((400,), 0.1, dtype=torch.float32)
    assert torch.prod(factors).item() == 0.0
    assert math.isclose(log_product_norm(factors).item(), 400 * math.log(0.1), rel_tol=1e-5)
    mats = (0.1 * torch.eye(3, dtype=torch.float32)).expand(400, 3, 3)
    assert math.isclose(log_product_norm(mats).item(), 400 * math.log(0.1), rel_tol=1e-5)


def test_float32_twin_draws_the_float64_data_and_samples_rounded():
    import qcgrad as qg

    for build in (lambda dt: qg.classical.mlp(depth=3, width=8, dtype=dt),
                  lambda dt: qg.classical.lstm(seq_len=4, width=3, input_scale=0.3, dtype=dt)):
        net64, net32 = build(torch.float64), build(torch.float32)
        assert torch.equal(net32.inputs, net64.inputs.float())
        assert torch.equal(net32.targets, net64.targets.float())
        gen = lambda: torch.Generator().manual_seed(0)  # noqa: E731
        assert torch.equal(net32.sample_params(gen(), 5), net64.sample_params(gen(), 5).float())
        assert torch.equal(net64.astype(torch.float32).inputs, net32.inputs)


def test_underflow_report_builds_the_twin_and_finds_none_in_a_shallow_relu_net():
    import qcgrad as qg

    # Depth 3, He init: every float64 partial is far above float32's smallest subnormal, so a
    # float32 twin with the same (rounded) data and parameters loses none of them.
    net = qg.classical.mlp(depth=3, width=16, activation="relu", init="he")
    report = underflow_report(net, net.sample_params(torch.Generator().manual_seed(0), 32))
    assert report.fraction == 0.0


def test_float32_exact_zero_of_a_deep_sigmoid_net_is_underflow():
    import qcgrad as qg

    # First-layer partials carry Π σ' ≤ 4^-200 ≈ 4e-121: representable in float64, 0 in float32.
    net = qg.classical.mlp(depth=200, width=4, activation="sigmoid", init="xavier", batch_size=4)
    report = underflow_report(net, net.sample_params(torch.Generator().manual_seed(0), 2))
    assert report.by_group["layer:0"] == 1.0
    assert report.zero64 == 0.0
