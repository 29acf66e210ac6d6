"""Dead ReLUs: exactly-zero gradient entries with ReLU, none with LeakyReLU or ELU."""
import pytest

import qcgrad as qg
from qcgrad.profile import layer_profile


def _hidden_zero_fraction(activation):
    net = qg.classical.mlp(depth=6, width=32, activation=activation, init="he", batch_size=1)
    prof = layer_profile(net, n_samples=20, seed=0)
    return prof.zero_fraction[1:-1]  # hidden layers: their inputs pass through the activation


def test_relu_has_many_exact_zeros_leaky_relu_and_elu_none():
    relu = _hidden_zero_fraction("relu")
    # One input: a weight gradient δ_i·x_j is 0 when unit i (mask 1/2) or input j (1/2) is dead,
    # so 1 − (1/2)² = 3/4 of the entries. Within a sample the entries share masks: the alive
    # fraction of 32 units has SD sqrt(1/4/32) = 0.088, the product of two such fractions an SD
    # of ≈ 0.5·0.088·√2 = 0.062; over 20 samples SE ≈ 0.014; allow 5 SE.
    assert relu == pytest.approx([0.75] * len(relu), abs=0.07)
    assert _hidden_zero_fraction("leaky_relu") == [0.0] * len(relu)
    assert _hidden_zero_fraction("elu") == [0.0] * len(relu)
