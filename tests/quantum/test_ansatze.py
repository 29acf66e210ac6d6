"""Every ansatz × cost on the engine agrees with PennyLane's default.qubit (cost and gradient),
the identity-block init starts at the identity value, and the layouts are what they claim."""
import math

import pennylane as qml
import pytest
import torch

from qcgrad.quantum import circuit
from qcgrad.quantum.ansatze import ANSATZ_SPECS, PAULI_CODES, TOPOLOGIES
from qcgrad.quantum.costs import make_cost
from qcgrad.quantum.ops import AxisRotation, rot_angles

COSTS = ["zz", "global", "local", "tfim:h=0.7", "heisenberg"]
N, S = 3, 2


def _depth(name: str) -> int:
    return 1 if ANSATZ_SPECS[name].fixed_layers else 2


def _pair(name, cost, **knobs):
    kw = dict(n_qubits=N, n_layers=_depth(name), cost=cost, **knobs)
    engine, ref = circuit(name, **kw), circuit(name, device="default.qubit", **kw)
    return engine, ref, engine.sample_params(torch.Generator().manual_seed(1), S)


def test_rot_encoding_equals_rx_ry_rz_exactly():
    a = torch.tensor([0.0, 0.4, 2.5, 6.1], dtype=torch.float64)
    for name, code in PAULI_CODES.items():
        phi, theta, omega = rot_angles(a, torch.full_like(a, code))
        rot = qml.matrix(qml.Rot(phi, theta, omega, wires=0))
        ref = qml.matrix(getattr(qml, name)(a, wires=0))
        torch.testing.assert_close(torch.as_tensor(rot), torch.as_tensor(ref), atol=1e-15, rtol=0)


def test_axis_rotation_equals_rx_ry_rz_exactly():
    # Against PennyLane's own RX/RY/RZ, through the matrix and through the decomposition.
    a = torch.tensor([0.0, 0.4, 2.5, 6.1], dtype=torch.float64)
    for name, code in PAULI_CODES.items():
        ref = torch.as_tensor(qml.matrix(getattr(qml, name)(a, wires=0)))
        op = AxisRotation(a, torch.full_like(a, code), wires=0)
        torch.testing.assert_close(torch.as_tensor(qml.matrix(op)), ref, atol=1e-15, rtol=0)
        (rot,) = op.decomposition()
        torch.testing.assert_close(torch.as_tensor(qml.matrix(rot)), ref, atol=1e-15, rtol=0)


def test_axis_rotation_shift_rule_equals_finite_difference():
    # The recipe PennyLane's parameter-shift transform reads, against a central difference.
    dev = qml.device("default.qubit", wires=1)

    @qml.qnode(dev, interface="torch", diff_method="parameter-shift")
    def value(theta, code):
        qml.RY(0.7, wires=0)
        AxisRotation(theta, code, wires=0)
        return qml.expval(qml.PauliZ(0) + 0.5 * qml.PauliY(0))

    for code in (0.0, 1.0, 2.0):
        theta, c = torch.tensor(0.9, dtype=torch.float64, requires_grad=True), torch.tensor(code)
        (g,) = torch.autograd.grad(value(theta, c), theta)
        h = 1e-6
        fd = (value(theta.detach() + h, c) - value(theta.detach() - h, c)) / (2 * h)
        assert abs(float(g) - float(fd)) < 1e-8


@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("name", sorted(ANSATZ_SPECS))
def test_engine_matches_default_qubit(name, cost):
    engine, ref, p = _pair(name, cost)
    torch.testing.assert_close(engine.cost(p), ref.cost(p), atol=1e-10, rtol=0)
    torch.testing.assert_close(engine.grad(p), ref.grad(p), atol=1e-10, rtol=0)


@pytest.mark.parametrize("topology", sorted(TOPOLOGIES))
@pytest.mark.parametrize("name", ["random_pauli", "hardware_efficient", "hva"])
def test_topologies_match_default_qubit(name, topology):
    engine, ref, p = _pair(name, "heisenberg", topology=topology)
    torch.testing.assert_close(engine.cost(p), ref.cost(p), atol=1e-10, rtol=0)
    torch.testing.assert_close(engine.grad(p), ref.grad(p), atol=1e-10, rtol=0)


def test_ring_and_all_differ_from_chain_where_they_should():
    assert TOPOLOGIES["ring"](4) == [(0, 1), (1, 2), (2, 3), (3, 0)] and TOPOLOGIES["ring"](2) == [(0, 1)]
    assert len(TOPOLOGIES["all"](4)) == 6


@pytest.mark.parametrize("block_size", [2, 4])
def test_alternating_layered_blocks_match_default_qubit(block_size):
    kw = dict(n_qubits=5, n_layers=3, cost="local", block_size=block_size)
    engine, ref = circuit("alternating_layered", **kw), circuit("alternating_layered", device="default.qubit", **kw)
    p = engine.sample_params(torch.Generator().manual_seed(2), S)
    torch.testing.assert_close(engine.grad(p), ref.grad(p), atol=1e-10, rtol=0)


def test_strongly_entangling_layers_are_pennylanes_template():
    n, layers = 4, 3
    qc = circuit("strongly_entangling", n_qubits=n, n_layers=layers, cost="zz")
    p = qc.sample_params(torch.Generator().manual_seed(0), 1)
    dev = qml.device("default.qubit", wires=n)

    @qml.qnode(dev, interface="torch")
    def template(w):
        qml.StronglyEntanglingLayers(w, wires=range(n))
        return qml.state()

    torch.testing.assert_close(qc.state(p)[0], template(p[0].view(layers, n, 3)).to(torch.complex128),
                               atol=1e-12, rtol=0)


def _identity_value(name: str, cost: str) -> float:
    """⟨H⟩ after the ansatz's state preparation alone, on default.qubit."""
    wires = list(range(N))

    @qml.qnode(qml.device("default.qubit", wires=N))
    def prefix_only():
        if ANSATZ_SPECS[name].prefix is not None:
            ANSATZ_SPECS[name].prefix(wires)
        return qml.expval(make_cost(cost).observable(wires))

    return float(prefix_only())


@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("name", sorted(n for n, a in ANSATZ_SPECS.items() if a.fixed_layers is None))
def test_identity_block_starts_at_the_identity_value(name, cost):
    qc = circuit(name, n_qubits=N, n_layers=4, cost=cost, init="identity_block")
    p = qc.sample_params(torch.Generator().manual_seed(3), 4)
    expected = torch.full((4,), _identity_value(name, cost), dtype=torch.float64)
    torch.testing.assert_close(qc.cost(p), expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("name", ["random_pauli", "hardware_efficient", "strongly_entangling"])
def test_parameter_shift_is_exact_on_inverse_layers(name):
    # Inverse layers negate angles; the two-term rule stays exact (coefficient −1).
    engine, ref, _ = _pair(name, "local", init="identity_block")
    p = engine.sample_params(torch.Generator().manual_seed(4), S) + 0.3 * engine.trainable
    idx = torch.tensor([0, engine.param_groups["layer:1"].start])
    torch.testing.assert_close(engine.grad(p, indices=idx), ref.grad(p)[:, idx], atol=1e-10, rtol=0)


@pytest.mark.parametrize("name", ["random_pauli", "hardware_efficient", "strongly_entangling"])
def test_adjoint_on_inverse_layers_equals_default_qubit(name):
    # One circuit with both kinds of gate parameter: inverse layers record computed angles
    # (−θ, pulled back by autograd), the others plain columns of params (added by column).
    engine, ref, _ = _pair(name, "local", init="identity_block")
    p = engine.sample_params(torch.Generator().manual_seed(4), S) + 0.3 * engine.trainable
    torch.testing.assert_close(engine.grad(p), ref.grad(p), atol=1e-10, rtol=0)


@pytest.mark.parametrize("name", sorted(ANSATZ_SPECS))
def test_layout_and_one_barrier_per_layer(name):
    a = ANSATZ_SPECS[name]
    layers = 1 if a.fixed_layers else 3
    qc = circuit(name, n_qubits=4, n_layers=layers)
    groups = qc.param_groups
    assert [f"layer:{k}" for k in range(layers)] == [g for g in groups if g.startswith("layer:")]
    assert sum(groups[f"layer:{k}"].stop - groups[f"layer:{k}"].start for k in range(layers)) \
        == int(qc.trainable.sum())
    with qml.queuing.AnnotatedQueue() as q:
        qc.ansatz.qfunc(qc.sample_params(torch.Generator().manual_seed(0), 1), qc.wires, layers)
    assert sum(op.name == "Barrier" for op in q.queue) == layers


def test_random_pauli_sampling():
    qc = circuit("random_pauli", n_qubits=3, n_layers=5)
    p = qc.sample_params(torch.Generator().manual_seed(0), 50)
    angles, codes = p[:, :15], p[:, 15:]
    assert angles.min() >= 0 and angles.max() < 2 * math.pi
    assert set(codes.unique().tolist()) == {0.0, 1.0, 2.0}
    assert qc.frozen == ("gates",) and qc.param_groups["gates"] == slice(15, 30)


def test_identity_block_mirrors_structure_too():
    qc = circuit("random_pauli", n_qubits=3, n_layers=2, init="identity_block")
    p = qc.sample_params(torch.Generator().manual_seed(0), 5)
    torch.testing.assert_close(p[:, 0:3], p[:, 3:6])  # angles of layer 1 = layer 0
    torch.testing.assert_close(p[:, 6:9], p[:, 9:12])  # and the gate codes


@pytest.mark.parametrize("kwargs, match", [
    (dict(ansatz="strongly_entangling", topology="ring"), "topology"),
    (dict(ansatz="hardware_efficient", topology="star"), "topology"),
    (dict(ansatz="alternating_layered", block_size=3), "block_size"),
    (dict(ansatz="alternating_layered", block_size=6), "block_size"),
    (dict(ansatz="hva", block_size=4), "block_size"),
    (dict(ansatz="hardware_efficient", n_layers=3, init="identity_block"), "even n_layers"),
    (dict(ansatz="tensor_product", n_layers=2, init="identity_block"), "fixed depth of 1 layer"),
    (dict(ansatz="hardware_efficient", init="gaussian"), "init"),
])
def test_bad_options_name_the_allowed_values(kwargs, match):
    kwargs = {"n_qubits": 4, "n_layers": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        circuit(kwargs.pop("ansatz"), **kwargs)


def test_describe_records_non_default_knobs_only():
    assert "topology" not in circuit("hardware_efficient", n_qubits=3).describe()
    assert circuit("hardware_efficient", n_qubits=3, topology="ring").describe()["topology"] == "ring"
    assert circuit("alternating_layered", n_qubits=4, block_size=4).describe()["block_size"] == 4
