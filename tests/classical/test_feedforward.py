"""Tower, deep linear net and MLP against closed forms and finite differences."""
import math

import pytest
import torch

import qcgrad as qg
from qcgrad.classical import ACTIVATIONS, INITS, deep_linear, mlp, tower

# Derivatives written out by hand (not via autograd): the independent truth for the tower.
DERIVATIVES = {
    "sigmoid": lambda z: (1 / (1 + math.exp(-z))) * (1 - 1 / (1 + math.exp(-z))),
    "tanh": lambda z: 1 - math.tanh(z) ** 2,
    "relu": lambda z: 1.0 if z > 0 else 0.0,
    "leaky_relu": lambda z: 1.0 if z > 0 else 0.01,
    "elu": lambda z: 1.0 if z > 0 else math.exp(z),
    "linear": lambda z: 1.0,
}
FUNCTIONS = {
    "sigmoid": lambda z: 1 / (1 + math.exp(-z)),
    "tanh": math.tanh,
    "relu": lambda z: max(z, 0.0),
    "leaky_relu": lambda z: z if z > 0 else 0.01 * z,
    "elu": lambda z: z if z > 0 else math.exp(z) - 1,
    "linear": lambda z: z,
}


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_tower_gradient_is_the_product_of_derivatives(activation):
    depth, x = 7, 0.8
    net = tower(depth=depth, activation=activation, x=x)
    theta = net.sample_params(torch.Generator().manual_seed(1), 6)
    grads = net.grad(theta)[:, 0]
    for w, g in zip(theta[:, 0].tolist(), grads.tolist(), strict=True):
        z, expected = w * x, x
        for _ in range(depth):
            expected *= DERIVATIVES[activation](z)
            z = FUNCTIONS[activation](z)
        assert g == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_linear_tower_with_slope_gives_x_times_slope_to_the_depth():
    net = tower(depth=10, activation="linear", slope=1.5, x=2.0)
    g = net.grad(torch.tensor([[0.3]], dtype=torch.float64)).item()
    assert g == pytest.approx(2.0 * 57.6650390625, rel=1e-14)  # 1.5**10 = 57.665...


def test_tower_cost_is_the_output():
    net = tower(depth=3, activation="tanh", x=0.5)
    w = torch.tensor([[1.2]], dtype=torch.float64)
    assert net.cost(w).item() == pytest.approx(math.tanh(math.tanh(math.tanh(0.6))), rel=1e-14)


def test_mlp_layout_and_description():
    net = mlp(depth=3, width=5, in_dim=2, out_dim=4, activation="relu", init="he")
    assert net.n_params == (2 * 5 + 5) + (5 * 5 + 5) + (5 * 4 + 4)
    assert list(net.param_groups) == ["layer:0", "layer:1", "layer:2"]
    assert net.param_groups["layer:1"] == slice(15, 45)
    d = net.describe()
    assert d["family"] == "classical" and d["architecture"] == "mlp"
    assert (d["depth"], d["width"], d["activation"], d["init"]) == (3, 5, "relu", "he")


def test_mlp_cost_matches_a_plain_torch_forward():
    net = mlp(depth=3, width=4, activation="sigmoid", batch_size=5)
    theta = net.sample_params(torch.Generator().manual_seed(0), 2)
    for row, cost in zip(theta, net.cost(theta), strict=True):
        p = net.unflatten(row)
        h = net.inputs
        for k in range(3):
            h = h @ p[f"layers.{k}.weight"].T + p[f"layers.{k}.bias"]
            h = torch.sigmoid(h) if k < 2 else h
        assert cost.item() == pytest.approx(((h - net.targets) ** 2).mean().item(), rel=1e-13)


def test_deep_linear_has_no_biases_and_square_layers():
    net = deep_linear(depth=4, width=3)
    assert net.n_params == 4 * 9
    assert net.describe()["architecture"] == "deep_linear"


@pytest.mark.parametrize("bad, match", [
    (dict(depth=0), "depth=0"), (dict(width=0), "width=0"),
    (dict(activation="swish"), "activation='swish'.*sigmoid, tanh"),
    (dict(init="lecun"), "init='lecun'.*xavier, he"), (dict(std=-1.0), "std=-1.0"),
])
def test_bad_knobs_name_value_and_allowed(bad, match):
    with pytest.raises(ValueError, match=match):
        mlp(**{"depth": 2, "width": 3, **bad})


def test_bad_tower_knobs():
    with pytest.raises(ValueError, match="depth=0"):
        tower(depth=0)
    with pytest.raises(ValueError, match="activation='step'"):
        tower(depth=2, activation="step")


@pytest.mark.parametrize("init", sorted(INITS))
def test_contract_call_works_for_every_init(init):
    net = mlp(depth=3, width=8, activation="tanh", init=init)
    est = qg.gradient_variance(net, n_samples=20, seed=0, params="layer:0")
    assert est.samples.shape == (20, net.param_groups["layer:0"].stop)
    assert est.variance > 0
