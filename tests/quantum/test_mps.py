"""The exact MPS route: cost and all partials against default.qubit and the full engine, the
closed form at 100 qubits, bond dimensions, and the choice between cones, MPS and the engine."""
import warnings

import pennylane as qml
import pytest
import torch

from qcgrad.quantum import circuit, lightcone, mps

TOL = 1e-10


def _mps(qc):
    plan = mps.mps_plan(qc)
    assert plan.reason is None, plan.reason
    return plan


def _check(spec: dict, n_samples: int, pennylane: bool) -> None:
    """Cost and all partials by the MPS route against the full engine (lightcone=False) and,
    when ``pennylane``, against default.qubit (PennyLane's simulator and differentiation)."""
    qc = circuit(**spec, lightcone=False)
    plan = _mps(qc)
    params = qc.sample_params(torch.Generator().manual_seed(7), n_samples)
    cost, grad = mps.model_cost(qc, plan, params), mps.model_grad(qc, plan, params)
    refs = [qc] + ([circuit(**spec, device="default.qubit")] if pennylane else [])
    for ref in refs:
        torch.testing.assert_close(cost, ref.cost(params), atol=TOL, rtol=0)
        torch.testing.assert_close(grad, ref.grad(params) * qc.trainable, atol=TOL, rtol=0)


@pytest.mark.parametrize("topology, n_layers, n, cost", [
    ("chain", 1, 6, "local"), ("chain", 2, 5, "zz"), ("chain", 3, 5, "tfim:h=0.7"), ("chain", 4, 4, "local"),
    ("ring", 1, 5, "tfim:h=0.7"), ("ring", 2, 4, "local"), ("ring", 3, 4, "zz"), ("ring", 4, 3, "heisenberg"),
])
def test_hardware_efficient_matches_default_qubit_and_the_engine(topology, n_layers, n, cost):
    _check(dict(ansatz="hardware_efficient", n_qubits=n, n_layers=n_layers, cost=cost, topology=topology), 2, True)


@pytest.mark.parametrize("topology, n_layers, n, cost", [
    ("chain", 4, 10, "local"), ("chain", 2, 14, "local"), ("chain", 3, 12, "tfim"), ("ring", 2, 10, "zz"),
])
def test_hardware_efficient_matches_the_engine_up_to_14_qubits(topology, n_layers, n, cost):
    _check(dict(ansatz="hardware_efficient", n_qubits=n, n_layers=n_layers, cost=cost, topology=topology), 3, False)


def test_strongly_entangling_long_range_cnots_match_default_qubit():
    # CNOT(i, i + r mod n) with r = 1, 2: gates across several sites, and wrapped around (i > j).
    _check(dict(ansatz="strongly_entangling", n_qubits=5, n_layers=2, cost="local"), 2, True)


def ising_layer(angles, wires):
    """One sample's layer: RY on every wire, CRX and IsingZZ on neighbours, IsingXX across two sites."""
    for q, w in enumerate(wires):
        qml.RY(angles[q], wires=w)
    qml.CRX(angles[0] * angles[1], wires=[wires[2], wires[1]])  # computed parameter, control right of target
    qml.IsingZZ(angles[2], wires=wires[:2])
    qml.IsingXX(angles[3], wires=[wires[0], wires[3]])  # rank 2 in the Pauli basis only


def test_user_circuit_with_crx_and_ising_gates_matches_default_qubit():
    _check(dict(ansatz=ising_layer, n_qubits=4, n_layers=2, angles_per_layer=4,
                cost=qml.Z(0) @ qml.X(3) + 0.5 * qml.Y(1)), 2, True)
    plan = _mps(circuit(ising_layer, 4, n_layers=1, angles_per_layer=4, cost="local"))
    assert plan.bonds == (4, 4, 2)  # IsingXX(0, 3): 2 on every cut; CRX and IsingZZ: 2 on cut 0 or 1


def test_frozen_parameters_and_requested_partials():
    # random_pauli's gate codes are frozen structure: zero partials; requested indices only.
    spec = dict(ansatz="random_pauli", n_qubits=6, n_layers=3, cost="local")
    _check(spec, 3, False)
    qc = circuit(**spec, lightcone=True)
    full = circuit(**spec, lightcone=False)
    assert isinstance(qc._cone_plan(), mps.MpsPlan)
    params = qc.sample_params(torch.Generator().manual_seed(2), 3)
    torch.testing.assert_close(qc.grad(params, [0, 7, 20]), full.grad(params, [0, 7, 20]), atol=TOL, rtol=0)
    assert qc.grad(params)[:, ~qc.trainable].abs().max() == 0


def test_local_cost_at_100_qubits_is_the_closed_form():
    # One hardware_efficient layer: the CNOT ladder maps Z_k to Z_0 ⋯ Z_k (backward through
    # CNOT(k−1, k), ..., CNOT(0, 1)), and after RY(θ_q) RZ(φ_q) ⟨Z_q⟩ = cos θ_q, so
    # C = 1/2 − Σ_k Π_{q ≤ k} cos θ_q / (2n). A 2^100 state is never built.
    n = 100
    qc = circuit("hardware_efficient", n_qubits=n, n_layers=1, cost="local")
    plan = qc._cone_plan()
    assert isinstance(plan, mps.MpsPlan) and plan.max_bond == 2
    p = qc.sample_params(torch.Generator().manual_seed(3), 2).requires_grad_(True)
    expected = 0.5 - p[:, :n].cos().cumprod(1).sum(1) / (2 * n)
    (g_expected,) = torch.autograd.grad(expected.sum(), p)
    torch.testing.assert_close(qc.cost(p.detach()), expected.detach(), atol=TOL, rtol=0)
    torch.testing.assert_close(qc.grad(p.detach()), g_expected, atol=TOL, rtol=0)


@pytest.mark.parametrize("n_layers", [1, 2, 3, 4])
def test_bond_dimensions_are_the_closed_forms(n_layers):
    # Each layer's CNOT staircase crosses every cut once (K = 2); on a ring CNOT(n−1, 0) crosses
    # every cut too: 2^L on a chain, 4^L on a ring.
    assert _mps(circuit("hardware_efficient", 9, n_layers, cost="local")).bonds == (2 ** n_layers,) * 8
    assert _mps(circuit("hardware_efficient", 9, n_layers, cost="local", topology="ring")).bonds == (4 ** n_layers,) * 8


def test_auto_picks_mps_for_hardware_efficient_and_cones_for_alternating_layered():
    he = circuit("hardware_efficient", 40, 2, cost="local")
    assert isinstance(he._cone_plan(), mps.MpsPlan)
    assert he.describe()["lightcone"] == "mps, bond <= 4"
    al = circuit("alternating_layered", 12, 1, cost="local")
    assert isinstance(al._cone_plan(), lightcone.Plan)
    assert al.describe()["lightcone"] == "cones of <= 2 qubits"
    small = circuit("hardware_efficient", 6, 4, cost="local")  # bonds of 16 on 6 qubits: no gain
    assert small._cone_plan() is None and "lightcone" not in small.describe()
    assert isinstance(lightcone.use_lightcone(small, True), mps.MpsPlan)  # True: it applies and fits


def toffoli_layer(angles, wires):
    for q, w in enumerate(wires):
        qml.RY(angles[q], wires=w)
    qml.Toffoli(wires=wires[:3])


def test_the_route_says_why_it_does_not_apply():
    assert mps.mps_plan(circuit("hardware_efficient", 4, 1, cost="global")).reason == \
        "cost='global' is not a sum of Pauli words"
    toffoli = circuit(toffoli_layer, 4, n_layers=1, angles_per_layer=4, cost="local")
    assert mps.mps_plan(toffoli).reason == \
        "gate Toffoli acts on 3 wires; the MPS route applies one- and two-qubit gates"
    assert "noise" in mps.mps_plan(circuit("hardware_efficient", 4, 1, cost="local", noise="depolarizing:0.01")).reason
    # lightcone=True: the cones (here the whole register) when the MPS route does not apply,
    # a warning and the full engine when neither does.
    assert isinstance(lightcone.use_lightcone(toffoli, True), lightcone.Plan)
    with pytest.warns(UserWarning, match="not a sum of Pauli words; running the full engine"):
        assert lightcone.use_lightcone(circuit("hardware_efficient", 4, 1, cost="global"), True) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lightcone.use_lightcone(toffoli, "auto") is None


def test_a_budget_below_one_sample_raises_before_allocating():
    qc = circuit("hardware_efficient", 40, 3, cost="local", max_memory=10_000)
    plan = _mps(qc)
    assert not plan.fits and not plan.pays
    with pytest.raises(ValueError, match=r"one sample of the MPS route \(bond <= 8\) needs .* max_memory=10000"):
        mps.model_cost(qc, plan, qc.sample_params(torch.Generator().manual_seed(0), 2))


def test_chunks_give_the_same_numbers():
    spec = dict(ansatz="hardware_efficient", n_qubits=8, n_layers=2, cost="local")
    whole = circuit(**spec, lightcone=True)
    plan = _mps(whole)
    chunked = circuit(**spec, lightcone=True, max_memory=3 * plan.bytes_per_sample)  # 3 samples a chunk
    params = whole.sample_params(torch.Generator().manual_seed(4), 8)
    torch.testing.assert_close(chunked.grad(params), whole.grad(params), atol=0, rtol=0)
