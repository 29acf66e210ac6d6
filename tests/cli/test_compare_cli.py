import json

import pytest

from qcgrad.cli import main


@pytest.mark.slow
def test_compare_writes_table_figure_and_records(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", "--out", str(out), "--samples", "40", "--max-depth", "8", "--max-qubits", "4"]) == 0
    table = capsys.readouterr().out
    for label in ("MLP sigmoid", "MLP tanh", "MLP ReLU", "random Pauli, ZZ, L=12n", "global cost",
                  "local cost", "random Pauli, ZZ, n=4"):
        assert label in table
    assert "theory rate (b)" in table
    assert (out / "compare.png").stat().st_size > 10_000
    payload = json.loads((out / "compare.json").read_text())
    assert len(payload["series"]) == 7  # six curves against size, one against circuit depth (n=4)
    sig = next(s for s in payload["series"] if s["series"].startswith("MLP sigmoid"))
    assert [r["value"] for r in sig["records"]] == [2, 4, 8]
    assert sig["fit"]["rate"] > 0  # sigmoid gradients vanish with depth
    # Mean field beside every point: the theory's rate within 20 % of the fitted one.
    assert all(r["prediction"]["variance"] > 0 for r in sig["records"])
    assert abs(sig["theory_rate"] / sig["fit"]["rate"] - 1) < 0.2
    depth_curve = payload["series"][-1]
    assert depth_curve["knob"] == "n_layers" and depth_curve["fit"] is None and depth_curve["rate"] is None
    assert "NaN" not in (out / "compare.json").read_text()  # strict JSON: no fit is null, not NaN
    assert "nan" not in table


def test_compare_refuses_too_few_points(tmp_path, capsys):
    assert main(["compare", "--out", str(tmp_path), "--max-depth", "4"]) == 2
    assert "--max-depth" in capsys.readouterr().err
