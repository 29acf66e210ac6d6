import json

from qcgrad.cli import main


def test_theory_prints_dla_and_prediction(capsys):
    assert main(["theory", "hardware_efficient", "n_qubits=3", "n_layers=6"]) == 0
    out = capsys.readouterr().out
    assert "dim 63" in out and "su(8)" in out and "predicted Var" in out and "McClean" in out


def test_theory_json_for_a_net(capsys):
    assert main(["theory", "mlp", "depth=4", "width=16", "activation=relu", "init=he", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["prediction"]["details"]["chi1"] == 1.0 and "dla" not in payload


def test_theory_reports_refusal(capsys):
    assert main(["theory", "random_pauli", "n_qubits=3", "n_layers=3", "noise=depolarizing:0.1"]) == 0
    assert "no prediction: noise" in capsys.readouterr().out


def test_theory_bad_input(capsys):
    assert main(["theory", "no_such_model"]) == 2
    assert "no_such_model" in capsys.readouterr().err
