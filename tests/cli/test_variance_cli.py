import json

import pytest

import qcgrad as qg
from qcgrad.cli import main
from qcgrad.cli.variance import parse_knob


def test_variance_json_matches_the_library(capsys):
    assert main(["variance", "tensor_product", "n_qubits=3", "n_layers=1", "cost=local",
                 "--samples", "50", "--seed", "3", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    est = qg.gradient_variance(qg.quantum.circuit("tensor_product", n_qubits=3, n_layers=1, cost="local"),
                               n_samples=50, seed=3)
    assert printed["variance"] == est.variance
    assert printed["model"]["n_qubits"] == 3


def test_variance_of_a_net_by_group(capsys):
    assert main(["variance", "mlp", "depth=3", "width=8", "activation=relu", "init=he",
                 "--samples", "20", "--params", "layer:1"]) == 0
    assert "Var[∂C/∂θ]" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["variance", "no_such_model"], "unknown model 'no_such_model'"),
    (["variance", "mlp", "depth=0"], "depth"),
    (["variance", "random_pauli", "n_qubits=0", "n_layers=5"], "n_qubits"),
    (["variance", "mlp", "depth"], "name=value"),
    (["variance", "mlp", "depth=3", "--samples", "1"], "n_samples"),
])
def test_bad_input_exits_2_with_a_message(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_knobs_parse_as_literals():
    assert parse_knob("n_qubits=6") == ("n_qubits", 6)
    assert parse_knob("std=0.5") == ("std", 0.5)
    assert parse_knob("cost=zz") == ("cost", "zz")
    assert parse_knob("pre-ln=True") == ("pre_ln", True)
