"""Layerwise training: stage layout, frozen layers untouched, continuous loss, any optimizer."""
import pytest
import torch

from qcgrad.optim import train
from qcgrad.quantum import circuit
from qcgrad.quantum.layerwise import layerwise_train


def _model(**kw):
    knobs = {"n_qubits": 3, "n_layers": 4, "cost": "tfim", "init": "identity_block", **kw}
    return circuit("hardware_efficient", **knobs)


def test_stages_grow_and_untrained_layers_stay_at_zero():
    qc = _model()
    res = layerwise_train(qc, "adam", steps_per_stage=4, n_runs=3, seed=0, lr=0.05, layers_per_stage=2)
    assert res.trained_layers == [(0, 2), (0, 4)]
    first = res.stages[0]
    later = slice(qc.param_groups["layer:2"].start, qc.n_params)
    assert torch.count_nonzero(first.params[:, later]) == 0  # not reached in stage 0
    assert torch.count_nonzero(res.params[:, later]) > 0     # trained in stage 1
    # Stage 1 starts exactly where stage 0 ended: one joined curve of 4 + 4 + 1 points.
    torch.testing.assert_close(res.stages[1].loss[0], first.loss[-1], atol=1e-12, rtol=0)
    assert res.loss.shape == (9, 3)


def test_identity_block_stage_zero_equals_training_the_shallow_circuit():
    # Layers 2, 3 at zero form an exact identity pair, so stage 0 is the 2-layer circuit.
    deep, shallow = _model(), _model(n_layers=2)
    res = layerwise_train(deep, "sgd", steps_per_stage=5, n_runs=2, seed=3, lr=0.1, layers_per_stage=2)
    start = res.stages[0].initial_params[:, : shallow.n_params]
    ref = train(shallow, "sgd", steps=5, n_runs=2, seed=3, lr=0.1, init=start)
    torch.testing.assert_close(res.stages[0].loss, ref.loss, atol=1e-12, rtol=0)


def test_window_trains_only_recent_layers_and_any_optimizer_works():
    qc = _model(n_layers=2, init="uniform")
    res = layerwise_train(qc, "momentum", steps_per_stage=3, n_runs=2, seed=1, lr=0.05, window=1)
    assert res.trained_layers == [(0, 1), (1, 2)]
    l0 = qc.param_groups["layer:0"]
    torch.testing.assert_close(res.stages[1].params[:, l0], res.stages[0].params[:, l0], atol=0, rtol=0)


def test_frozen_structure_of_random_pauli_is_kept():
    qc = circuit("random_pauli", n_qubits=2, n_layers=2, cost="zz")
    res = layerwise_train(qc, "adam", steps_per_stage=2, n_runs=2, seed=0)
    gates = qc.param_groups["gates"]
    torch.testing.assert_close(res.params[:, gates], res.stages[0].initial_params[:, gates], atol=0, rtol=0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(layers_per_stage=0), "layers_per_stage"), (dict(window=0), "window"),
    (dict(steps_per_stage=0), "steps_per_stage"), (dict(init=torch.zeros(2, 24)), "init"),
])
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layerwise_train(_model(), "adam", **kwargs)


def test_models_whose_zero_layers_block_the_gradient_are_refused():
    # An MLP with layers 1.. at zero weights passes no gradient to layer 0: stage 0 would be a no-op.
    from qcgrad.classical import mlp

    net = mlp(depth=3, width=4)
    with pytest.raises(ValueError, match="does not apply to 'mlp'.*exactly 0"):
        layerwise_train(net, "adam", steps_per_stage=2, n_runs=2)
