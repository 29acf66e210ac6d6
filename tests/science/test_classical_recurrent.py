"""Gradient of the last-step loss w.r.t. the first input, against sequence length T."""
import math
import warnings

import qcgrad as qg

SEQ_LENS = [2, 6, 10, 15, 20, 30]


def _rate(build):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return qg.scan(build, SEQ_LENS, n_samples=100, seed=0).fit(kind="exponential")


def test_rnn_decays_at_minus_log_of_its_per_step_gain():
    # Recurrent matrix 0.9·Q (Q orthogonal): ‖W^t v‖ = 0.9^t ‖v‖ exactly, and tiny inputs keep
    # tanh' ≈ 1 (pre-activation variance ≈ 0.01²/(1−0.81) ≈ 5e-4), so the per-step gain is 0.9
    # and Var[∂C/∂x_1] ∝ 0.81^T: rate −ln 0.81 = 0.2107 per step.
    fit = _rate(lambda t: qg.classical.rnn(seq_len=t, width=16, spectral_radius=0.9, input_scale=0.01))
    expected = -math.log(0.9**2)
    low, high = fit.rate_ci
    assert low <= expected <= high
    assert high - low < 0.2 * expected  # and the interval is informative


def test_lstm_with_forget_bias_keeps_the_first_step_far_longer():
    rnn = _rate(lambda t: qg.classical.rnn(seq_len=t, width=16, spectral_radius=0.9, input_scale=0.01))
    # Same recurrent spectral radius; forget gate σ(3) ≈ 0.95 carries c_1 along the cell state.
    lstm = _rate(lambda t: qg.classical.lstm(seq_len=t, width=16, spectral_radius=0.9, forget_bias=3.0))
    assert rnn.rate_ci[0] > 0
    assert max(abs(lstm.rate_ci[0]), abs(lstm.rate_ci[1])) < rnn.rate_ci[0] / 5
