"""`qcgrad list`: the registries, and the notes that change results (QNG's default metric)."""
import json

from qcgrad.cli import main


def test_qng_states_its_block_diagonal_default_and_the_full_option(capsys):
    assert main(["list"]) == 0
    qng = [line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("qng:")]
    assert len(qng) == 1 and "BLOCK-DIAGONAL" in qng[0] and "approx='full'" in qng[0]


def test_json_lists_names_and_optimizer_notes(capsys):
    assert main(["list", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert "qng" in table["optimizers"] and set(table["optimizer notes"]) <= set(table["optimizers"])
    assert "mlp" in table["architectures"] and "random_pauli" in table["ansatze"]
