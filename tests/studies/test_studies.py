"""Every study in ``studies/`` runs in ``--quick`` mode and every claim in its verdict agrees.

A study compares each measurement with a reference value from the literature or a closed form,
within the measurement's own standard errors (see :mod:`qcgrad.claims`), so a failing claim here
is a physics or statistics regression, not a changed number.
"""
from __future__ import annotations

import json
import runpy
import sys
import warnings
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
STUDIES = sorted(p for p in (Path(__file__).parents[2] / "studies").glob("*.py"))


@pytest.mark.parametrize("path", STUDIES, ids=[p.stem for p in STUDIES])
def test_study_quick_mode_agrees_with_its_references(path, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", [str(path), "--quick", "--out", str(tmp_path)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # studies report heavy tails in their intervals
        runpy.run_path(str(path), run_name="__main__")
    record = json.loads((tmp_path / f"{path.stem}.json").read_text())
    assert record["quick"] is True
    assert record["claims"], f"{path.stem} states no claim"
    failed = [c["claim"] for c in record["claims"] if not c["agrees"]]
    assert not failed, f"{path.stem}: claims that disagree: {failed}"
    assert list(tmp_path.glob("*.png")), f"{path.stem} wrote no figure"


def test_a_study_prints_its_usage_for_an_unknown_option(capsys, monkeypatch):
    path = STUDIES[0]
    monkeypatch.setattr(sys, "argv", [str(path), "--bogus"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(path), run_name="__main__")
    assert exit_info.value.code == 2
    assert f"usage: python studies/{path.stem}.py" in capsys.readouterr().err
