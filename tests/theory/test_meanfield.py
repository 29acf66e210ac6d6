"""Mean-field values against exact results, direct integration, and measured scans."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy.integrate import quad

import qcgrad as qg
from qcgrad.theory import chi1, critical_std, fixed_point, predict
from qcgrad.theory.meanfield import depth_scale, phase


def gaussian_mean(f) -> float:
    return quad(lambda z: f(z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi), -12, 12, limit=200)[0]


def test_tanh_unit_gain_without_bias_is_exactly_critical():
    assert fixed_point("tanh", 1.0) == 0.0
    assert chi1("tanh", 1.0) == 1.0 and phase(1.0) == "critical" and depth_scale(1.0) == math.inf
    assert critical_std(64) == pytest.approx(1 / 8)


@pytest.mark.parametrize("init, chi", [("he", 1.0), ("xavier", 0.5)])
def test_relu_gains(init, chi):
    # ReLU: E[φ'(z)²] = 1/2, so χ₁ = N·Var(W)/2: He (2/N) → 1, Xavier on square layers (1/N) → 1/2.
    p = predict(qg.classical.mlp(depth=4, width=32, activation="relu", init=init))
    assert p.details["chi1"] == pytest.approx(chi, abs=1e-12)


def test_sigmoid_fixed_point_and_chi_by_direct_integration():
    sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    q = 1.0
    for _ in range(200):  # q ← E[σ(√q z)²] with σ_w² = 1, σ_b = 0
        s = math.sqrt(q)
        q = gaussian_mean(lambda z, s=s: sig(s * z) ** 2)
    s = math.sqrt(q)
    chi = gaussian_mean(lambda z: (sig(s * z) * (1 - sig(s * z))) ** 2)
    assert fixed_point("sigmoid", 1.0) == pytest.approx(q, rel=1e-8)
    assert chi1("sigmoid", 1.0) == pytest.approx(chi, rel=1e-8)


def test_deep_linear_orthogonal_is_isometric():
    p = predict(qg.classical.deep_linear(depth=6, width=16))
    assert p.details["chi1"] == pytest.approx(1.0) and p.details["phase"] == "critical"


@pytest.mark.parametrize("activation, depths", [("sigmoid", [3, 4, 5, 6]), ("tanh", [3, 7, 11])])
def test_predicted_bases_match_measured_scans(activation, depths):
    """Width 128, Xavier: fitted base of the measured scan vs the base of the predicted values (10 %).

    With S = 160 each point's SE is about 12 % (κ ≈ 3); the fitted ln b then has an error of
    about 0.05 for sigmoid and 0.02 for tanh, well inside the 10 % band.
    """
    def build(d):
        return qg.classical.mlp(depth=d, width=128, activation=activation, init="xavier")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scan = qg.scan(build, depths, n_samples=160, seed=1)
    measured = scan.fit(kind="exponential")
    predicted = qg.theory.compare.theory_fit(depths, [predict(build(d)).variance for d in depths],
                                             kind="exponential", knob="depth")
    assert predicted.base == pytest.approx(measured.base, rel=0.1)
    if activation == "sigmoid":  # fast approach to q*: the asymptotic 1/χ₁ already holds
        assert predict(build(6)).base == pytest.approx(measured.base, rel=0.1)


def test_tower_variance_matches_measurement():
    model = qg.classical.tower(depth=4, activation="tanh")
    est = qg.gradient_variance(model, n_samples=4000, seed=0)
    assert abs(est.variance - predict(model).variance) < 4 * est.se  # 4 SE, SE = Var·sqrt((κ−1)/S)


def test_rnn_per_step_factor_in_the_linear_regime():
    # Tiny inputs keep q* ≈ 0 and tanh' ≈ 1: the factor is the orthogonal recurrence's σ_h² = 1.
    p = predict(qg.classical.rnn(seq_len=5, input_scale=1e-4))
    assert p.variance is None and p.base == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("build, match", [
    (lambda: qg.classical.lstm(seq_len=3), "architecture='lstm'"),
    (lambda: qg.classical.mlp(depth=1, width=4), "depth=1"),
])
def test_refusals(build, match):
    with pytest.raises(ValueError, match=match):
        predict(build())


def test_last_layer_partial_is_refused():
    model = qg.classical.mlp(depth=3, width=4)
    with pytest.raises(ValueError, match="last layer"):
        predict(model, params="layer:2")
    assert np.isfinite(predict(model, params="layer:1").variance)
