import torch

import qcgrad as qg
from qcgrad.diagnostics import dead_fraction


def test_relu_net_with_negative_bias_shift_has_dead_units_and_tanh_none():
    tanh = qg.classical.mlp(depth=3, width=4, activation="tanh")
    theta = tanh.sample_params(torch.Generator().manual_seed(0), 4)
    assert all(v == 0.0 for v in dead_fraction(tanh, theta).values())
    relu = qg.classical.mlp(depth=3, width=4, activation="relu")
    theta = relu.sample_params(torch.Generator().manual_seed(0), 4)
    sl = relu.param_groups["layer:0"]
    theta[:, sl.stop - 4:sl.stop] = -100.0  # layer-0 biases: every hidden unit of layer 0 is off
    frac = dead_fraction(relu, theta)
    assert frac["layer:0"] == 1.0 and frac["layer:1"] == 1.0
