"""The public contract of DESIGN.md: extend it, never break it."""
import torch

import qcgrad as qg


def test_design_contract_end_to_end():
    net = qg.classical.mlp(depth=20, width=64, activation="tanh", init="xavier")
    qc = qg.quantum.circuit("random_pauli", n_qubits=6, n_layers=50, cost="zz")
    for model in (net, qc):
        assert isinstance(model, qg.Model)
        assert isinstance(model.n_params, int) and model.n_params > 0
        assert "layer:0" in model.param_groups
        assert isinstance(model.describe(), dict)
    est = qg.gradient_variance(qc, n_samples=200, seed=0, params="first")
    assert isinstance(est.variance, float) and est.variance > 0
    low, high = est.ci
    assert low <= est.variance <= high
    assert est.samples.shape == (200, 1)

    scan = qg.scan(lambda n: qg.quantum.circuit("random_pauli", n_qubits=n, n_layers=20, cost="zz"),
                   values=range(2, 6), n_samples=50, seed=0)
    fit = scan.fit()
    assert isinstance(fit, qg.DecayFit)
    assert fit.kind in ("exponential", "power")
    for name in ("rate", "rate_ci", "base", "r2"):
        assert hasattr(fit, name)
    records = scan.records()
    assert len(records) == 4
    assert {"value", "variance", "ci", "n_samples", "model"} <= records[0].keys()
    assert records[0]["model"]["n_qubits"] == 2


def test_model_interface_shapes():
    for model in (qg.classical.mlp(depth=3, width=8), qg.quantum.circuit("tensor_product", n_qubits=3, n_layers=1, cost="local")):
        gen = torch.Generator().manual_seed(0)
        theta = model.sample_params(gen, 5)
        assert theta.shape == (5, model.n_params)
        assert model.cost(theta).shape == (5,)
        assert model.grad(theta).shape == (5, model.n_params)
        again = model.sample_params(torch.Generator().manual_seed(0), 5)
        assert torch.equal(theta, again)


def test_params_selectors():
    net = qg.classical.mlp(depth=4, width=8)
    first = qg.gradient_variance(net, n_samples=20, params="first")
    by_group = qg.gradient_variance(net, n_samples=20, params="layer:0")
    every = qg.gradient_variance(net, n_samples=20, params="all")
    assert first.samples.shape[1] == 1
    assert by_group.samples.shape[1] == net.param_groups["layer:0"].stop - net.param_groups["layer:0"].start
    assert every.samples.shape[1] == net.n_params


def test_builders_named_in_the_design_exist():
    for name in ("tower", "deep_linear", "mlp", "resnet", "densenet", "unet", "rnn", "lstm", "gru", "transformer"):
        assert callable(getattr(qg.classical, name)), name
    assert callable(qg.quantum.circuit)
