"""Light cones: dead parameters against PennyLane, per-cone simulation against the full engine."""
import math
import warnings

import pennylane as qml
import pytest
import torch

from qcgrad.quantum import circuit, lightcone

TOL = 1e-10


def _zero_partials(spec: dict, n_samples: int) -> torch.Tensor:
    """Partials that are zero (< 1e-12, rounding) on every one of ``n_samples`` random points,
    by default.qubit (PennyLane's own simulator and differentiation)."""
    ref = circuit(**spec, device="default.qubit")
    params = ref.sample_params(torch.Generator().manual_seed(3), n_samples)
    g = ref.grad(params)
    return (g.abs() < 1e-12).all(0) & ref.trainable


@pytest.mark.parametrize("spec, n_dead", [
    (dict(ansatz="hardware_efficient", n_qubits=8, n_layers=2, cost="zz"), 26),   # #15.1: 26 of 32
    (dict(ansatz="random_pauli", n_qubits=8, n_layers=2, cost="zz"), 11),         # #15.1: 11 of 16
])
def test_dead_parameters_are_the_partials_default_qubit_finds_exactly_zero(spec, n_dead):
    dead = lightcone.dead_parameters(circuit(**spec))
    torch.testing.assert_close(dead, _zero_partials(spec, 4), rtol=0, atol=0)
    assert int(dead.sum()) == n_dead


def test_dead_parameters_follow_clifford_gates_beyond_wire_cones():
    # CNOT(0,1) maps Z0 Z1 to Z1: qubit 0's rotations are dead although they are in the wire cone.
    qc = circuit("hardware_efficient", n_qubits=3, n_layers=1, cost="zz")
    assert lightcone.dead_parameters(qc).tolist() == [True, False, True, True, True, True]
    assert lightcone.dead_parameters(circuit("hardware_efficient", 3, 1, cost="global")).sum() == 0


def _full_and_cone(qc, n_samples):
    params = qc.sample_params(torch.Generator().manual_seed(1), n_samples)
    plan = lightcone.lightcone_plan(qc)
    assert plan.reason is None
    return params, plan


@pytest.mark.parametrize("spec", [
    dict(ansatz="alternating_layered", n_qubits=10, n_layers=3, cost="local"),
    dict(ansatz="hva", n_qubits=8, n_layers=2, cost="tfim:h=0.7"),
    dict(ansatz="random_pauli", n_qubits=9, n_layers=2, cost=qml.Z(0) @ qml.X(4) + 0.3 * qml.Y(8)),
])
def test_cone_cost_and_gradient_equal_the_full_engine(spec):
    qc = circuit(**spec)
    params, plan = _full_and_cone(qc, 5)
    torch.testing.assert_close(lightcone.model_cost(qc, plan, params), qc.cost(params), atol=TOL, rtol=0)
    torch.testing.assert_close(lightcone.model_grad(qc, plan, params), qc.grad(params), atol=TOL, rtol=0)


def test_cone_gradient_matches_default_qubit():
    spec = dict(ansatz="alternating_layered", n_qubits=6, n_layers=2, cost="local")
    qc = circuit(**spec)
    params, plan = _full_and_cone(qc, 2)
    ref = circuit(**spec, device="default.qubit")
    torch.testing.assert_close(lightcone.model_grad(qc, plan, params), ref.grad(params), atol=TOL, rtol=0)


def test_local_cost_at_100_qubits_is_the_closed_form():
    # One alternating layer: RY(θ_i) then CZs, which commute with Z_i, so ⟨Z_i⟩ = cos θ_i:
    # C = 1/2 − Σ cos θ_i / (2n), ∂C/∂θ_i = sin θ_i / (2n). A 2^100 state is never built.
    n = 100
    qc = circuit("alternating_layered", n_qubits=n, n_layers=1, cost="local")
    params, plan = _full_and_cone(qc, 3)
    assert plan.pays and plan.width == 2
    cost = lightcone.model_cost(qc, plan, params)
    torch.testing.assert_close(cost, 0.5 - params.cos().sum(1) / (2 * n), atol=TOL, rtol=0)
    torch.testing.assert_close(lightcone.model_grad(qc, plan, params), params.sin() / (2 * n), atol=TOL, rtol=0)


def test_lightcone_on_a_cost_that_is_not_local_warns_and_runs_the_full_engine():
    qc = circuit("hardware_efficient", n_qubits=3, cost="global")
    with pytest.warns(UserWarning, match="not a sum of Pauli words; running the full engine"):
        assert lightcone.use_lightcone(qc, True) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lightcone.use_lightcone(qc, "auto") is None
    small = circuit("alternating_layered", n_qubits=4, n_layers=2, cost="local")
    assert lightcone.use_lightcone(small, "auto") is None  # cones cover the register: no gain
    assert lightcone.use_lightcone(small, True) is not None
    assert lightcone.use_lightcone(circuit("alternating_layered", 12, 1, cost="local"), "auto").pays


def test_plan_groups_terms_and_keeps_the_constant():
    qc = circuit("alternating_layered", n_qubits=8, n_layers=1, cost="local")
    plan = lightcone.lightcone_plan(qc)
    assert plan.constant == pytest.approx(0.5)
    assert sorted(len(terms) for _, _, terms in plan.groups) == [2, 2, 2, 2]  # one group per CZ block
    assert math.isclose(sum(c for _, _, terms in plan.groups for c, _ in terms), -0.5)


def test_partials_by_index_simulate_only_their_cones(monkeypatch):
    qc = circuit("alternating_layered", n_qubits=12, n_layers=2, cost="local")
    params, plan = _full_and_cone(qc, 3)
    calls = []
    adjoint = lightcone.engine.adjoint_gradient
    monkeypatch.setattr(lightcone.engine, "adjoint_gradient", lambda *a, **k: calls.append(1) or adjoint(*a, **k))
    g0 = lightcone.model_grad(qc, plan, params, indices=[0, 5])
    assert 0 < len(calls) < len(plan.groups)
    torch.testing.assert_close(g0, qc.grad(params)[:, [0, 5]], atol=TOL, rtol=0)
