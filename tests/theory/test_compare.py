"""Measured vs predicted over scans: values, ratios, z-scores and verdicts."""
from __future__ import annotations

import math
import warnings

import pytest
from freefermion import free_fermion

import qcgrad as qg
from qcgrad.theory import Prediction, compare_theory, predicted
from qcgrad.theory.compare import rebuild, theory_fit, verdict


def test_compare_theory_on_a_cerezo_scan():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scan = qg.scan(lambda n: qg.quantum.circuit("tensor_product", n_qubits=n, cost="global"), [2, 3, 4],
                       n_samples=2000, seed=0)
    rows = compare_theory(scan)
    for n, row in zip([2, 3, 4], rows, strict=True):
        assert row["predicted"] == pytest.approx((1 / 8) * (3 / 8) ** (n - 1))
        assert row["ratio"] == pytest.approx(row["measured"] / row["predicted"])
        assert row["z"] == pytest.approx((row["measured"] - row["predicted"]) / row["se"])
        assert row["verdict"] == "agrees" and "Cerezo" in row["prediction"]["reference"]
    fit = theory_fit([2, 3, 4], [r["predicted"] for r in rows], kind="exponential")
    assert fit.base == pytest.approx(8 / 3)  # (3/8)^(n-1): base 8/3 exactly


def test_verdicts():
    p = Prediction(0.02, "Var[∂C] = …", [], "ref")
    shallow = {"family": "quantum", "n_qubits": 4, "n_layers": 5}
    deep = {"family": "quantum", "n_qubits": 4, "n_layers": 48}
    assert verdict(0.021, 0.001, p, deep)[2] == "agrees"
    assert verdict(0.05, 0.001, p, shallow)[2] == "not converged in depth"
    assert verdict(0.05, 0.001, p, deep)[2] == "disagrees"
    assert verdict(0.05, 0.001, p, deep, converged=False)[2] == "not converged in depth"
    ratio, z, text = verdict(0.05, 0.001, None, deep)
    assert math.isnan(ratio) and text == "no prediction"


def test_refusals_and_user_circuits_in_predicted():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scan = qg.scan(lambda L: free_fermion(3, L), [2, 4], n_samples=20, seed=0)
    refused = predicted(scan)  # a user circuit cannot be rebuilt from its description
    assert all(isinstance(r, str) and "build=" in r for r in refused)
    values = predicted(scan, build=lambda L: free_fermion(3, L))
    assert all(isinstance(v, Prediction) for v in values)


def test_rebuild_builtins():
    model = qg.quantum.circuit("hva", n_qubits=4, n_layers=3, cost="tfim", topology="ring")
    assert rebuild(model.describe()).describe() == model.describe()


def test_scan_compare_theory_flags_a_prediction_for_another_cost():
    # Scan.compare_theory with its defaults (of="gradient", z_max=3, rtol=0.1). The local-cost scan
    # (Var = 1/(8n²)) against the global cost's closed form (1/8)(3/8)^(n−1): ratios 0.67, 0.47, 0.39,
    # each ≥ 10 SE away (SE ≈ Var·sqrt((κ−1)/S) with κ ≈ 3, S = 2000: 3 % of Var), so all disagree;
    # against its own cost every point agrees.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scan = qg.scan(lambda n: qg.quantum.circuit("tensor_product", n_qubits=n, cost="local"), [2, 3, 4],
                       n_samples=2000, seed=0)
    wrong = scan.compare_theory(lambda n: qg.quantum.circuit("tensor_product", n_qubits=n, cost="global"))
    assert [r["verdict"] for r in wrong] == ["disagrees"] * 3
    assert [r["ratio"] for r in wrong] == pytest.approx([(1 / (8 * n * n)) / ((1 / 8) * (3 / 8) ** (n - 1))
                                                        for n in (2, 3, 4)], rel=0.15)
    right = scan.compare_theory()
    assert [r["verdict"] for r in right] == ["agrees"] * 3
    assert [r["predicted"] for r in right] == pytest.approx([1 / (8 * n * n) for n in (2, 3, 4)])
