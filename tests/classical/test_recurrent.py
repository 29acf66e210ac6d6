"""RNN, LSTM and GRU against torch.nn's cells; the first-input gradient; knobs."""
import pytest
import torch

from qcgrad.classical import gru, lstm, rnn


def _torch_last_hidden(kind, net, theta):
    """Last hidden state from torch.nn.RNN/LSTM/GRU loaded with the model's weights."""
    p = net.unflatten(theta)
    width, n_in = net.knobs["width"], net.knobs["in_dim"]
    ref = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](n_in, width, batch_first=True)
    ref = ref.double()
    with torch.no_grad():
        ref.weight_ih_l0.copy_(p["layers.0.x2h.weight"])
        ref.weight_hh_l0.copy_(p["layers.0.h2h.weight"])
        ref.bias_ih_l0.copy_(p["layers.0.x2h.bias"])
        ref.bias_hh_l0.copy_(p["layers.0.h2h.bias"] if kind == "gru" else torch.zeros_like(ref.bias_hh_l0))
    x = net.inputs.clone()
    x[:, 0] += p["offset.weight"]
    out, _ = ref(x)
    return out[:, -1] @ p["readout.weight"].T + p["readout.bias"]


@pytest.mark.parametrize("kind, build", [("rnn", rnn), ("lstm", lstm), ("gru", gru)])
def test_forward_matches_torch_nn(kind, build):
    net = build(seq_len=5, width=4, in_dim=3)
    theta = net.sample_params(torch.Generator().manual_seed(0), 2)
    theta[:, net.param_groups["input:0"]] = 0.3  # a nonzero first-input offset is part of the test
    for row in theta:
        torch.testing.assert_close(net.forward(row), _torch_last_hidden(kind, net, row), rtol=1e-12, atol=1e-12)


def test_first_parameter_is_the_gradient_wrt_the_first_input():
    net = lstm(seq_len=4, width=3)
    theta = net.sample_params(torch.Generator().manual_seed(1), 1)[0]
    x = net.inputs.clone().requires_grad_(True)
    loss = ((net.forward(theta, x) - net.targets) ** 2).mean()
    (gx,) = torch.autograd.grad(loss, x)
    torch.testing.assert_close(net.grad(theta[None])[0, net.param_groups["input:0"]], gx[:, 0].sum(0))
    assert net.param_groups["input:0"].start == 0


def test_gate_biases_and_spectral_radius():
    net = lstm(seq_len=3, width=4, forget_bias=2.5, spectral_radius=0.7)
    theta = net.sample_params(torch.Generator().manual_seed(2), 3)
    bias = theta[:, net.param_slices["layers.0.x2h.bias"]].reshape(3, 4, 4)  # gates i, f, g, o
    assert torch.all(bias[:, 1] == 2.5) and torch.all(bias[:, [0, 2, 3]] == 0)
    w = theta[:, net.param_slices["layers.0.h2h.weight"]].reshape(3, 4, 4, 4)
    rho = torch.linalg.eigvals(w).abs().amax(-1)
    torch.testing.assert_close(rho, torch.full_like(rho, 0.7), rtol=1e-12, atol=0)
    assert gru(seq_len=2, update_bias=1.5).describe()["update_bias"] == 1.5


def test_inputs_are_a_prefix_across_sequence_lengths_and_targets_fixed():
    short, long = rnn(seq_len=3, width=2), rnn(seq_len=7, width=2)
    torch.testing.assert_close(long.inputs[:, :3], short.inputs)
    torch.testing.assert_close(long.targets, short.targets)


def test_stacked_layers():
    net = gru(seq_len=3, width=4, depth=2)
    assert [g for g in net.param_groups] == ["input:0", "layer:0", "layer:1", "readout"]


@pytest.mark.parametrize("bad, match", [
    (dict(seq_len=0), "seq_len=0"), (dict(spectral_radius=0.0), "spectral_radius=0.0"),
    (dict(spectral_radius=-1.0), "spectral_radius=-1.0"), (dict(recurrent_init="eye"), "recurrent_init='eye'"),
    (dict(activation="softsign"), "activation='softsign'"), (dict(input_scale=0), "input_scale=0"),
])
def test_bad_knobs(bad, match):
    for build in (rnn, lstm, gru):
        with pytest.raises(ValueError, match=match):
            build(**{"seq_len": 3, **bad})
