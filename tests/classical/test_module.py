"""from_module: any nn.Module as a Model, against plain torch autograd on deep-copied modules."""
import copy
import math

import pytest
import torch
from resnet_style import ResNet18Style
from torch import nn

import qcgrad as qg
from qcgrad.classical import from_module


def _reset(module):
    # Children first, then the module itself: the order in which torch constructors initialize.
    for child in module.children():
        _reset(child)
    reset = getattr(module, "reset_parameters", None) or getattr(module, "_reset_parameters", None)
    if callable(reset):
        reset()


def reference_grads(module, inputs, loss_fn, seeds):
    """Per seed: a deep copy re-initialized by its own reset_parameters under that seed, Dropout
    off, BatchNorm on batch statistics (train mode), and the gradient by plain autograd."""
    rows, grads = [], []
    for seed in seeds:
        net = copy.deepcopy(module).double().eval()
        for m in net.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.train()
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(seed)
            _reset(net)
        params = list(net.parameters())
        args = inputs if isinstance(inputs, tuple) else (inputs,)
        (g,) = [torch.autograd.grad(loss_fn(net(*args)), params)]
        rows.append(torch.cat([p.detach().reshape(-1) for p in params]))
        grads.append(torch.cat([x.reshape(-1) for x in g]))
    return torch.stack(rows), torch.stack(grads)


def _seeds(seed, n):
    # The documented protocol: sample i runs under the i-th int64 draw of the qcgrad generator.
    return torch.randint(0, 2**62, (n,), generator=torch.Generator().manual_seed(seed)).tolist()


class LastStep(nn.Module):
    """A recurrent layer's output at the last step (RNN modules return (output, state))."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x)[0][:, -1]


class SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.out = nn.Linear(8, 1)

    def forward(self, x):
        return self.out(self.attn(x, x, x)[0])


class Bag(nn.Module):
    """Embedding, mean over tokens, linear readout; plus a user parameter with its own reset."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.scale = nn.Parameter(torch.empty(4))
        self.readout = nn.Linear(4, 2)
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.uniform_(self.scale, 0.5, 1.5)

    def forward(self, tokens):
        return self.readout(self.embed(tokens).mean(dim=1) * self.scale)


def _x(*shape):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(7), dtype=torch.float64)


CASES = {
    "linear": (lambda: nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2)), lambda: _x(5, 4)),
    "conv1d": (lambda: nn.Sequential(nn.Conv1d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(18, 1)),
               lambda: _x(4, 2, 8)),
    "conv2d_batchnorm2d": (lambda: nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                                                 nn.Flatten(), nn.Linear(48, 1)), lambda: _x(4, 2, 4, 4)),
    "batchnorm1d": (lambda: nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.Tanh(), nn.Linear(5, 1)),
                    lambda: _x(6, 4)),
    "layernorm_dropout": (lambda: nn.Sequential(nn.Linear(4, 6), nn.LayerNorm(6), nn.Dropout(0.5), nn.Linear(6, 1)),
                          lambda: _x(5, 4)),
    "embedding_user_module": (Bag, lambda: torch.randint(0, 10, (5, 3), generator=torch.Generator().manual_seed(7))),
    "multihead_attention": (SelfAttention, lambda: _x(3, 4, 8)),
    "transformer_encoder_layer": (lambda: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, batch_first=True),
                                  lambda: _x(3, 4, 8)),
    "rnn": (lambda: LastStep(nn.RNN(3, 4, batch_first=True)), lambda: _x(4, 5, 3)),
    "lstm": (lambda: LastStep(nn.LSTM(3, 4, num_layers=2, batch_first=True)), lambda: _x(4, 5, 3)),
    "gru": (lambda: LastStep(nn.GRU(3, 4, batch_first=True)), lambda: _x(4, 5, 3)),
}


# RNN layers have no vmap batching rule without autograd (cost falls back to a loop, warned);
# attention's fused kernels have none either (torch warns of a slower fallback).
NO_VMAP = pytest.mark.filterwarnings("ignore:torch.func.vmap cannot run:UserWarning")
SLOW_KERNEL = pytest.mark.filterwarnings("ignore:There is a performance drop:UserWarning")


@pytest.mark.parametrize("case", list(CASES))
@NO_VMAP
@SLOW_KERNEL
def test_per_sample_gradients_equal_a_loop_over_reinitialized_copies(case):
    make, inputs = CASES[case]
    torch.manual_seed(0)
    module, x = make(), inputs()
    model = from_module(module, x)
    mse = lambda out: ((out - model.targets) ** 2).mean()  # noqa: E731
    params = model.sample_params(torch.Generator().manual_seed(3), 3)
    rows, expected = reference_grads(module, x, mse, _seeds(3, 3))
    torch.testing.assert_close(params, rows, rtol=0, atol=0)
    torch.testing.assert_close(model.grad(params), expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(model.cost(params), torch.stack([mse(out) for out in
                               [model.forward(p) for p in params]]), rtol=1e-12, atol=1e-12)


def test_resnet18_style_network_on_32x32_images():
    torch.manual_seed(0)
    net = ResNet18Style(width=4)
    images = _x(4, 3, 32, 32)
    labels = torch.tensor([0, 3, 7, 9])
    model = from_module(net, images, labels, loss="cross_entropy")
    assert list(model.param_groups) == ["stem", "layer1", "layer2", "layer3", "layer4", "fc"]
    params = model.sample_params(torch.Generator().manual_seed(1), 2)
    _, expected = reference_grads(net, images, lambda out: nn.functional.cross_entropy(out, labels), _seeds(1, 2))
    torch.testing.assert_close(model.grad(params), expected, rtol=1e-12, atol=1e-12)


def test_batchnorm_keeps_no_running_statistics_and_the_module_is_untouched():
    module = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.Linear(5, 1))
    before = copy.deepcopy(module.state_dict())
    model = from_module(module, _x(6, 4))
    model.grad(model.sample_params(torch.Generator().manual_seed(0), 4))
    for key, value in module.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert model.module[1].running_mean is None


def test_vmap_fallback_warns_once_and_gives_the_same_numbers():
    class Branchy(nn.Module):  # data-dependent control flow: vmap cannot run it
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 1)

        def forward(self, x):
            h = self.lin(x)
            return h if h.sum() > -1e9 else -h

    torch.manual_seed(0)
    module, x = Branchy(), _x(5, 3)
    with pytest.warns(UserWarning, match="vmap cannot run Branchy .*cost and grad one sample at a time") as record:
        model = from_module(module, x)
    assert len(record) == 1
    params = model.sample_params(torch.Generator().manual_seed(2), 3)
    _, expected = reference_grads(module, x, lambda out: ((out - model.targets) ** 2).mean(), _seeds(2, 3))
    torch.testing.assert_close(model.grad(params), expected, rtol=1e-12, atol=1e-12)


@NO_VMAP
def test_loop_and_vmap_paths_agree():
    model = from_module(CASES["lstm"][0](), CASES["lstm"][1]())
    params = model.sample_params(torch.Generator().manual_seed(0), 4)
    batched = model.grad(params)
    model.vmap_fallback = {"cost": "forced for the test", "grad": "forced for the test"}
    torch.testing.assert_close(model.grad(params), batched, rtol=1e-12, atol=1e-14)


def test_user_mlp_and_builtin_mlp_give_the_same_variance():
    ref = qg.classical.mlp(depth=3, width=8, activation="tanh", init="xavier", batch_size=16)
    seq = nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 1))
    user = from_module(seq, ref.inputs, ref.targets, init="xavier")
    assert user.n_params == ref.n_params
    for params in ("all", "first"):
        a = qg.gradient_variance(ref, n_samples=64, seed=5, params=params)
        b = qg.gradient_variance(user, n_samples=64, seed=5, params=params)
        assert math.isclose(a.variance, b.variance, rel_tol=1e-10)


def test_named_schemes():
    seq = nn.Sequential(nn.Linear(64, 64), nn.LayerNorm(64), nn.Linear(64, 64))
    gen = torch.Generator().manual_seed(0)
    p = from_module(seq, _x(4, 64), init="orthogonal").part
    theta = p.unflatten(p.sample(gen, 1)[0])
    w = theta["0.weight"]
    torch.testing.assert_close(w @ w.T, torch.eye(64, dtype=torch.float64))
    assert torch.all(theta["0.bias"] == 0) and torch.all(theta["1.weight"] == 1) and torch.all(theta["1.bias"] == 0)
    n = 64 * 64 * 20
    draws = from_module(seq, _x(4, 64), init="normal:std=0.5").sample_params(gen, 20)[:, 64 * 64 + 64 + 128:][:, :-64]
    # SE of a sample variance of N(0, s²): s²·sqrt(2/n); 5 SE.
    assert abs(draws.var().item() - 0.25) < 5 * 0.25 * math.sqrt(2 / n)


def test_callable_init_is_seeded_by_the_generator():
    def init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=2.0)
            nn.init.constant_(m.bias, 0.3)

    model = from_module(nn.Linear(3, 2), _x(4, 3), init=init)
    a = model.sample_params(torch.Generator().manual_seed(1), 3)
    b = model.sample_params(torch.Generator().manual_seed(1), 3)
    assert torch.equal(a, b) and not torch.equal(a[0], a[1])
    assert torch.all(a[:, 6:] == 0.3)


def test_float32_twin_draws_the_float64_numbers_rounded():
    seq = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 1))
    m64 = from_module(seq, _x(6, 4))
    m32 = from_module(seq, _x(6, 4), dtype=torch.float32)
    gen = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    assert torch.equal(m32.sample_params(gen(), 3), m64.sample_params(gen(), 3).float())
    assert torch.equal(m32.targets, m64.targets.float()) and torch.equal(m32.inputs, m64.inputs.float())


def test_groups_leaves_and_dict():
    net = ResNet18Style(width=2)
    leaves = from_module(net, _x(2, 3, 8, 8), groups="leaves")
    assert "layer2.0.shortcut.0" in leaves.param_groups and "stem.0" in leaves.param_groups
    custom = from_module(net, _x(2, 3, 8, 8), groups={"body": [net.stem, net.layer1, net.layer2, net.layer3,
                                                              net.layer4], "head": net.fc})
    assert list(custom.param_groups) == ["body", "head"]
    assert custom.param_groups["head"].stop == custom.n_params
    with pytest.raises(ValueError, match="parameters outside every group: .*fc.bias"):
        from_module(net, _x(2, 3, 8, 8), groups={"body": [net.stem, net.layer1, net.layer2, net.layer3,
                                                          net.layer4]})
    with pytest.raises(ValueError, match="groups='layers' is not allowed"):
        from_module(net, _x(2, 3, 8, 8), groups="layers")


def test_bad_input_is_refused_with_one_clear_error():
    with pytest.raises(ValueError, match="has no parameters"):
        from_module(nn.ReLU(), _x(3, 4))
    with pytest.raises(ValueError, match=r"forward failed on inputs \(3, 5\): RuntimeError"):
        from_module(nn.Linear(4, 2), _x(3, 5))
    with pytest.raises(ValueError, match="returned shape \\(3, 2\\); it must return one floating scalar"):
        from_module(nn.Linear(4, 2), _x(3, 4), _x(3, 2), loss=lambda out, y: (out - y) ** 2)
    with pytest.raises(ValueError, match="loss='cross_entropy' failed on the module's output \\(3, 2\\)"):
        from_module(nn.Linear(4, 2), _x(3, 4), torch.tensor([0, 5, 1]), loss="cross_entropy")
    with pytest.raises(ValueError, match="init='kaiming' is not allowed; use 'reset', 'xavier'"):
        from_module(nn.Linear(4, 2), _x(3, 4), init="kaiming")
    with pytest.raises(ValueError, match="std=-1.0 is not allowed"):
        from_module(nn.Linear(4, 2), _x(3, 4), init="normal:std=-1")
    with pytest.raises(ValueError, match="loss='l1' is not allowed"):
        from_module(nn.Linear(4, 2), _x(3, 4), loss="l1")
    with pytest.raises(TypeError, match="must be a torch.nn.Module"):
        from_module(lambda x: x, _x(3, 4))

    class Raw(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.ones(4))

        def forward(self, x):
            return x * self.w

    with pytest.raises(ValueError, match="module 'root' \\(Raw\\) has parameters \\['w'\\] but no reset_parameters"):
        from_module(Raw(), _x(3, 4))
    assert from_module(Raw(), _x(3, 4), init="normal").n_params == 4


def test_builtin_architecture_through_from_module():
    # A built-in net's module: its leaves reset themselves from their own init, so from_module
    # gives the builder's gradients at the same parameters and draws from the same init.
    ref = qg.classical.resnet(depth=2, width=4, batchnorm=True, zero_gamma=True, batch_size=8)
    model = from_module(ref.module, ref.inputs, ref.targets, groups={f"layer:{k}": block for k, block in
                                                                    enumerate(ref.module.layers)})
    assert list(model.param_groups) == list(ref.param_groups) and model.n_params == ref.n_params
    theta = ref.sample_params(torch.Generator().manual_seed(0), 3)
    torch.testing.assert_close(model.grad(theta), ref.grad(theta), rtol=1e-12, atol=1e-14)
    drawn = model.part.unflatten(model.sample_params(torch.Generator().manual_seed(0), 1)[0])
    assert torch.all(drawn["layers.0.norm2.weight"] == 0)  # zero-γ, as the builder draws it
    assert torch.all(drawn["layers.0.first.bias"] == 0) and drawn["layers.0.first.weight"].std() > 0
