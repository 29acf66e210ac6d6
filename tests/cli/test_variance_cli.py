import json
import math
import sys
import types

import pytest
import torch

import qcgrad as qg
from qcgrad.cli import main
from qcgrad.cli.variance import parse_knob, summary_line


def test_variance_json_matches_the_closed_form(capsys):
    # Cerezo tensor product, local cost: ∂C_L/∂θ₁ = sin(θ₁)/(2n), Var = 1/(8n²), κ = 3/2 exactly,
    # so SE = Var·sqrt(0.5/S); 4 SE at S = 2000 is 6.3 % of the variance.
    n, S = 3, 2000
    assert main(["variance", "tensor_product", f"n_qubits={n}", "n_layers=1", "cost=local",
                 "--samples", str(S), "--seed", "3", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    true = 1 / (8 * n**2)
    assert abs(printed["variance"] - true) < 4 * true * math.sqrt(0.5 / S)
    assert printed["model"]["n_qubits"] == n and printed["n_samples"] == S and printed["method"] == "sample"


def test_params_lists_and_slices_on_the_command_line(capsys):
    assert main(["variance", "mlp", "depth=3", "width=4", "--samples", "10", "--params", "0,1,5", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["params"] == [0, 1, 5] and printed["n_partials"] == 3
    assert main(["variance", "mlp", "depth=3", "width=4", "--samples", "10", "--params=layer:0,layer:2",
                 "--json"]) == 0
    net = qg.classical.mlp(depth=3, width=4)
    groups = net.param_groups
    expected = (groups["layer:0"].stop - groups["layer:0"].start) + (groups["layer:2"].stop - groups["layer:2"].start)
    assert json.loads(capsys.readouterr().out)["n_partials"] == expected


def test_non_finite_results_are_never_printed_as_numbers(capsys):
    assert main(["variance", "tower", "depth=3", "x=nan"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "finite" in err  # the builder or the estimator refuses; both name it
    # Last line of defence: the printer refuses a non-finite estimate rather than print "nan".
    nan = qg.VarianceEstimate(variance=math.nan, ci=(0.0, 0.0), se=0.0, kurtosis=math.nan, mean=0.0, n_samples=2,
                              samples=torch.zeros(2, 1), indices=[0], zero_by_construction=[])
    with pytest.raises(ValueError, match="not finite"):
        summary_line(nan)


def test_method_paths_on_the_command_line(monkeypatch, capsys):
    # The dispatch only (qcgrad.quantum.paths is tested in tests/quantum/test_paths.py).
    fake = types.SimpleNamespace(
        paths_reason=lambda model: None, paths_recommended=lambda model: True,
        paths_variance=lambda model, params, *, n_paths, seed, level: qg.VarianceEstimate(
            variance=0.25, ci=(0.25, 0.25), se=0.0, kurtosis=math.nan, mean=0.0, n_samples=0,
            samples=torch.empty(0, 1), indices=[0], zero_by_construction=[], method="paths", exact=True))
    monkeypatch.setitem(sys.modules, "qcgrad.quantum.paths", fake)
    assert main(["variance", "tensor_product", "n_qubits=2", "n_layers=1", "--method", "paths"]) == 0
    assert "Var[∂C/∂θ] = 0.25  (exact, paths)" in capsys.readouterr().out
    assert main(["variance", "tensor_product", "n_qubits=2", "n_layers=1", "--method", "paths", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["exact"] is True and printed["kurtosis"] is None


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
    (["variance", "mlp", "depth=3", "--seed", "-1"], "seed=-1"),
    (["variance", "mlp", "depth=3", "--params", "99999"], "index 99999 is out of range"),
    (["variance", "mlp", "depth=3", "--params", "0,,1"], "empty item"),
    (["variance", "mlp", "depth=3", "--method", "exact"], "invalid choice: 'exact'"),
    (["variance", "mlp", "depth=3", "--n-paths", "0"], "n_paths=0"),
])
def test_bad_input_exits_2_with_a_message(argv, message, capsys):
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse's own checks (types, choices) exit from parse_args
        code = stop.code
    assert code == 2
    assert message in capsys.readouterr().err


def test_knobs_parse_as_literals():
    assert parse_knob("n_qubits=6") == ("n_qubits", 6)
    assert parse_knob("std=0.5") == ("std", 0.5)
    assert parse_knob("cost=zz") == ("cost", "zz")
    assert parse_knob("pre-ln=True") == ("pre_ln", True)
