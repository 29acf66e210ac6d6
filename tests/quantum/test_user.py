"""User circuits (layer form, whole-circuit form, QNodes) on the engine against PennyLane devices."""
import math

import pennylane as qml
import pytest
import torch

import qcgrad as qg
from qcgrad.quantum import AxisRotation, circuit, from_qnode
from qcgrad.quantum.user import PerSample

# complex128 round-off over a few dozen gates is ~1e-15; 1e-10 is the contract in DESIGN.md.
TOL = 1e-10
DEVICES = ("default.qubit", "lightning.qubit")
N = 3


def _params(model, s=3, seed=1):
    return model.sample_params(torch.Generator().manual_seed(seed), s)


def _agree_with_devices(build, s=3):
    """Engine cost and every partial vs default.qubit and lightning.qubit (independent simulators)."""
    eng = build("engine")
    p = _params(eng, s)
    cost, grad = eng.cost(p), eng.grad(p)
    for device in DEVICES:
        ref = build(device)
        torch.testing.assert_close(cost, ref.cost(p), atol=TOL, rtol=0)
        torch.testing.assert_close(grad, ref.grad(p) * eng.trainable, atol=TOL, rtol=0)
    return eng, p


# --- the five forms, each against both devices ------------------------------------------------

def controlled_layer(angles, wires):
    """Controlled rotations and two-qubit Ising gates: one sample's layer of 6 angles."""
    for q, w in enumerate(wires):
        qml.RY(angles[q], wires=w)
    qml.CRX(angles[3], wires=[wires[0], wires[1]])
    qml.CRY(angles[4], wires=[wires[1], wires[2]])
    qml.CRZ(angles[5], wires=[wires[2], wires[0]])
    qml.IsingXX(angles[0], wires=wires[:2])  # angles[0] read twice


def test_layer_form_with_controlled_rotations_matches_devices():
    eng, p = _agree_with_devices(lambda d: circuit(controlled_layer, N, n_layers=3, angles_per_layer=6,
                                                   cost="local", device=d))
    assert list(eng.param_groups) == ["layer:0", "layer:1", "layer:2"]
    assert not eng.ansatz.pauli_shift  # CRX is not a two-term shift gate, angles[0] is read twice
    # A requested pair of partials must then take the adjoint path, not the two-term shift.
    torch.testing.assert_close(eng.grad(p, torch.tensor([3, 9])), eng.grad(p)[:, [3, 9]], atol=TOL, rtol=0)


def templates(params, wires):
    """PennyLane templates and parametrised gates, one sample's params[8, 3]."""
    qml.StronglyEntanglingLayers(params[0:2].reshape(2, N, 1).expand(2, N, 3) * params[0:2].reshape(2, N, 1)
                                 if False else params[0:6].reshape(2, N, 3), wires=wires)
    qml.BasicEntanglerLayers(params[6].reshape(1, N), wires=wires)
    qml.QAOAEmbedding(params[7], params[6:8].reshape(1, 2 * N), wires=wires)
    qml.Rot(*params[3], wires=wires[0])
    qml.U3(*params[4], wires=wires[1])
    qml.PauliRot(params[5, 0], "XYZ", wires=wires)
    qml.MultiRZ(params[5, 1], wires=wires)
    qml.IsingYY(params[5, 2], wires=wires[1:])
    qml.IsingZZ(params[2, 2], wires=[wires[0], wires[2]])


HAMILTONIAN = qml.Hamiltonian([0.3, -0.7, 0.2], [qml.Z(0) @ qml.Z(1), qml.X(1), qml.Y(0) @ qml.Y(2)])


def test_whole_circuit_form_with_templates_matches_devices():
    eng, _ = _agree_with_devices(lambda d: circuit(templates, N, shape=(8, 3), cost=HAMILTONIAN, device=d))
    assert eng.n_layers == 8 and eng.param_groups["layer:7"] == slice(21, 24)
    assert eng.describe()["ansatz"] == "templates" and eng.describe()["shape"] == [8, 3]


def arithmetic(params, wires):
    """Parameters used twice and through arithmetic: 2a, a + b, sin(b), a·b."""
    a, b = params[0], params[1]
    qml.RX(2 * a, wires=wires[0])
    qml.RY(a + b, wires=wires[1])
    qml.CNOT(wires=wires[:2])
    qml.RZ(torch.sin(b), wires=wires[1])
    qml.RY(a * b, wires=wires[2])
    qml.CRX(a, wires=[wires[2], wires[0]])


def test_parameters_used_twice_and_through_arithmetic_match_devices():
    _agree_with_devices(lambda d: circuit(arithmetic, N, shape=(2,), cost=HAMILTONIAN, device=d))


def test_parameters_through_arithmetic_match_the_closed_form():
    # RX(2a) RY(a+b) on |00⟩ then CNOT: ⟨Z₀⟩ = cos 2a, independent of b; ⟨Z₁⟩ = cos 2a cos(a+b).
    def f(params, wires):
        qml.RX(2 * params[0], wires=wires[0])
        qml.RY(params[0] + params[1], wires=wires[1])
        qml.CNOT(wires=wires[:2])

    model = circuit(f, 2, shape=(2,), cost=qml.Z(1))
    a, b = 0.4, 1.1
    g = model.grad(torch.tensor([[a, b]], dtype=torch.float64))[0]
    exact = [-2 * math.sin(2 * a) * math.cos(a + b) - math.cos(2 * a) * math.sin(a + b),
             -math.cos(2 * a) * math.sin(a + b)]
    torch.testing.assert_close(g, torch.tensor(exact, dtype=torch.float64), atol=1e-12, rtol=0)


@qml.qnode(qml.device("default.qubit", wires=N))
def qnode(params):
    qml.RY(params[0, 0], wires=0)
    qml.CNOT(wires=[0, 1])
    qml.CRZ(params[0, 1], wires=[1, 2])
    qml.RX(params[1, 0] * 2, wires=2)
    qml.RY(params[1, 1], wires=1)
    return qml.expval(qml.X(1) @ qml.Z(2) + 0.5 * qml.Z(0))


def test_qnode_matches_devices_and_its_own_device():
    eng, p = _agree_with_devices(lambda d: from_qnode(qnode, shape=(2, 2), device=d))
    own = from_qnode(qnode, shape=(2, 2), device=qnode.device)
    torch.testing.assert_close(eng.grad(p), own.grad(p), atol=TOL, rtol=0)
    direct = torch.stack([qnode(row.reshape(2, 2)) for row in p])  # the QNode itself
    torch.testing.assert_close(eng.cost(p), direct.to(torch.float64), atol=TOL, rtol=0)
    assert eng.describe()["ansatz"] == "qnode" and eng.cost_spec.name.startswith("observable:")


def test_qnode_with_string_wire_labels():
    @qml.qnode(qml.device("default.qubit", wires=["a", "b"]))
    def labelled(params):
        qml.RX(params[0], wires="a")
        qml.CNOT(wires=["a", "b"])
        return qml.expval(qml.Z("b"))

    model = from_qnode(labelled, shape=(1,))
    torch.testing.assert_close(model.cost(torch.tensor([[0.5]], dtype=torch.float64)),
                               torch.tensor([math.cos(0.5)], dtype=torch.float64), atol=1e-12, rtol=0)


def mcclean_layer(angles, codes, wires):
    """McClean 2018 for ONE sample: rotation about axis codes[q] on every qubit, then a CZ chain."""
    for q, w in enumerate(wires):
        AxisRotation(angles[q], codes[q], wires=w)
    for a, b in zip(wires[:-1], wires[1:], strict=True):
        qml.CZ(wires=[a, b])


def _ry_quarter(wires):
    for w in wires:
        qml.RY(math.pi / 4, wires=w)


def _mcclean(n, n_layers, **kwargs):
    def codes(gen, s):
        return torch.randint(0, 3, (s, n_layers, n), generator=gen)

    return circuit(mcclean_layer, n, n_layers=n_layers, angles_per_layer=n, structure=codes,
                   state_prep=_ry_quarter, cost="zz", **kwargs)


def test_per_sample_structure_matches_devices_and_is_frozen():
    eng, p = _agree_with_devices(lambda d: _mcclean(N, 4, device=d))
    assert eng.frozen == ("structure",) and eng.param_groups["structure"] == slice(12, 24)
    assert torch.all(eng.grad(p)[:, 12:] == 0)
    assert not torch.equal(p[0, 12:], p[1, 12:])  # drawn per sample
    assert eng.ansatz.pauli_shift  # each angle drives one Pauli rotation, read once


def test_user_layers_rebuild_the_built_in_ansaetze():
    # The same parameters give the same numbers: the zoo is expressible as user circuits.
    def hardware_efficient(angles, wires):
        n = len(wires)
        for q, w in enumerate(wires):
            qml.RY(angles[q], wires=w)
        for q, w in enumerate(wires):
            qml.RZ(angles[n + q], wires=w)
        for a, b in zip(wires[:-1], wires[1:], strict=True):
            qml.CNOT(wires=[a, b])

    for init in ("uniform", "identity_block"):
        built = circuit("hardware_efficient", 4, 4, cost="local", init=init)
        mine = circuit(hardware_efficient, 4, n_layers=4, angles_per_layer=8, cost="local", init=init)
        p = _params(built, s=4)
        torch.testing.assert_close(mine.sample_params(torch.Generator().manual_seed(1), 4), p, atol=0, rtol=0)
        torch.testing.assert_close(mine.cost(p), built.cost(p), atol=1e-12, rtol=0)
        torch.testing.assert_close(mine.grad(p), built.grad(p), atol=1e-12, rtol=0)
    built = circuit("random_pauli", N, 4)
    p = _params(built)
    torch.testing.assert_close(_mcclean(N, 4).sample_params(torch.Generator().manual_seed(1), 3), p, atol=0, rtol=0)
    torch.testing.assert_close(_mcclean(N, 4).grad(p), built.grad(p), atol=1e-12, rtol=0)
    torch.testing.assert_close(_mcclean(N, 4).grad(p, torch.tensor([0])), built.grad(p, torch.tensor([0])),
                               atol=1e-12, rtol=0)


def test_identity_block_inverts_user_layers_templates_included():
    def layer(angles, wires):
        qml.StronglyEntanglingLayers(angles.reshape(1, N, 3), wires=wires)
        qml.CRX(angles[0], wires=wires[:2])

    def make(d):
        return circuit(layer, N, n_layers=4, angles_per_layer=3 * N, cost="local", init="identity_block", device=d)

    eng, p = _agree_with_devices(make)
    # Each pair of layers is the identity at init: the local cost of |0…0⟩ is 0.
    torch.testing.assert_close(eng.cost(p), torch.zeros(3, dtype=torch.float64), atol=1e-12, rtol=0)
    q = p.clone()
    q[:, 9:18] += 0.3  # moved apart, the pairs no longer cancel
    assert eng.cost(q).abs().min() > 1e-3


def test_replayed_recordings_follow_new_parameters():
    # Circuits that read their parameters as views are recorded once per batch layout and replayed:
    # new values of the same shape (angles and structure) must reach the gates.
    cases = [(lambda d: _mcclean(N, 4, device=d), "default.qubit"),
             (lambda d: circuit(templates, N, shape=(8, 3), cost=HAMILTONIAN, device=d), "lightning.qubit")]
    for build, device in cases:
        eng, ref = build("engine"), build(device)
        assert eng.ansatz.rebind
        for seed in (1, 2, 3):
            p = _params(eng, s=2, seed=seed)
            torch.testing.assert_close(eng.cost(p), ref.cost(p), atol=TOL, rtol=0)
            torch.testing.assert_close(eng.grad(p), ref.grad(p) * eng.trainable, atol=TOL, rtol=0)
    # Computed gate parameters (2a, a + b) and inverse layers (−θ) are recorded anew on every call.
    assert not circuit(arithmetic, N, shape=(2,), cost="zz").ansatz.rebind
    assert not _mcclean(N, 4, init="identity_block").ansatz.rebind


def test_noise_after_every_user_layer_matches_default_mixed():
    # Each user layer ends at a qml.Barrier qcgrad places, so noise= goes after every layer.
    def make(d):
        return circuit(controlled_layer, N, n_layers=2, angles_per_layer=6, cost="local", noise="depolarizing:0.1",
                       device=d)

    eng, ref = make("engine"), make("default.mixed")
    p = _params(eng)
    torch.testing.assert_close(eng.cost(p), ref.cost(p), atol=TOL, rtol=0)
    torch.testing.assert_close(eng.grad(p), ref.grad(p), atol=TOL, rtol=0)


def test_state_prep_is_a_fixed_prefix():
    def layer(angles, wires):
        qml.RZ(angles[0], wires=wires[0])

    flipped = circuit(layer, 2, n_layers=1, angles_per_layer=1, cost=qml.Z(0),
                      state_prep=lambda wires: qml.PauliX(wires[0]))
    assert flipped.cost(torch.tensor([[0.7]], dtype=torch.float64)).item() == pytest.approx(-1, abs=1e-12)
    built = circuit("tensor_product", 2, cost="zz", state_prep=lambda wires: qml.PauliX(wires[0]))
    assert built.cost(torch.zeros(1, 2, dtype=torch.float64)).item() == pytest.approx(-1, abs=1e-12)


def test_describe_and_same_numbers_for_any_chunking():
    model = _mcclean(N, 4)
    assert model.describe() == {"family": "quantum", "ansatz": "mcclean_layer", "n_qubits": N, "n_layers": 4,
                                "cost": "zz", "init": "uniform", "angles_per_layer": N, "structure": [4, N],
                                "device": "engine"}
    a = qg.gradient_variance(model, n_samples=8, seed=3, params="layer:0")
    b = qg.gradient_variance(_mcclean(N, 4, max_memory=2 * 6 * 16 * 2**N), n_samples=8, seed=3, params="layer:0")
    torch.testing.assert_close(a.samples, b.samples, atol=0, rtol=0)


def test_per_sample_views_index_like_one_sample():
    x = torch.arange(12.0).reshape(2, 2, 3).as_subclass(PerSample)  # two samples of Tensor[2, 3]
    assert x[1, 2].tolist() == [5.0, 11.0] and x[-1, -1].tolist() == [5.0, 11.0]
    assert [t.tolist() for t in x[0]] == [[0.0, 6.0], [1.0, 7.0], [2.0, 8.0]]
    assert len(x) == 2 and x.reshape(6)[4].tolist() == [4.0, 10.0] and x.flatten()[5].tolist() == [5.0, 11.0]
    assert (2 * x)[0, 1].tolist() == [2.0, 14.0] and x[:, 1:][1, 1].tolist() == [5.0, 11.0]


# --- bad input: one clear error each, at construction -----------------------------------------

def _empty(angles, wires):
    pass


def _past(angles, wires):
    qml.RX(angles[2], wires=wires[0])


def _returns(angles, wires):
    qml.RX(angles[0], wires=wires[0])
    return qml.expval(qml.Z(0))


def _channel(angles, wires):
    qml.RX(angles[0], wires=wires[0])
    qml.DepolarizingChannel(0.1, wires=wires[0])


class _Opaque(qml.operation.Operation):
    num_wires = N
    num_params = 1


def _opaque(angles, wires):
    _Opaque(angles[0], wires=wires)


def _reads_two(params, wires):
    qml.RX(params[0, 0], wires=wires[0])
    qml.RY(params[0, 1], wires=wires[1])


def _off_wire(angles, wires):
    qml.RX(angles[0], wires=7)


@pytest.mark.parametrize("fn,kwargs,match", [
    (_empty, {"angles_per_layer": 1}, "_empty queues no gates"),
    (_past, {"angles_per_layer": 2}, "_past reads past its parameters .*angles_per_layer=2"),
    (_returns, {"angles_per_layer": 1}, "_returns returned .*returns None.*from_qnode"),
    (_channel, {"angles_per_layer": 1}, "channel DepolarizingChannel.*noise="),
    (_opaque, {"angles_per_layer": 1}, "_Opaque on 3 wires.*neither a matrix.*nor a decomposition"),
    (_past, {"angles_per_layer": 5}, r"_past never reads 8 of its 10 parameters \(first: index \(0, 0\) of "
                                     r"angles_per_layer=5\)"),
    (_reads_two, {"shape": (2, 2)}, r"never reads 2 of its 4 parameters \(first: index \(1, 0\) of shape=\(2, 2\)"),
    (_off_wire, {"angles_per_layer": 1}, "RX on wire 7; the circuit's wires are"),
    (_past, {"angles_per_layer": 1, "shape": (2, 1)}, "not both"),
    (_past, {}, "not neither"),
    (_past, {"shape": (0, 1)}, r"shape=\(0, 1\): entry=0 must be an int ≥ 1"),
    (_reads_two, {"shape": (2, 2), "n_layers": 3}, r"n_layers=3 differs from shape\[0\]=2"),
    (_past, {"angles_per_layer": 3, "init": "identity_block", "n_layers": 3}, "even n_layers"),
    (_reads_two, {"shape": (2, 2), "init": "identity_block"}, "layer form .*form='whole'"),
    (_past, {"angles_per_layer": 3, "topology": "ring"}, "apply to built-in ansätze"),
    (_past, {"angles_per_layer": 3, "structure": lambda g, s: torch.zeros(s, 5)}, r"\[n_samples, n_layers=2, \.\.\.\]"),
    (_past, {"angles_per_layer": 3, "structure": lambda g, s: [0] * s}, r"returned \[0, 0, 0\]; it must return"),
])
def test_bad_user_circuits_name_the_problem(fn, kwargs, match):
    kwargs = {"n_layers": 2, **kwargs} if "shape" not in kwargs else kwargs
    with pytest.raises((ValueError, TypeError), match=match):
        circuit(fn, N, cost="zz", **kwargs)


def _not_broadcasting(angles, wires):
    qml.RX(angles[0].reshape(1)[0], wires=wires[0])  # one number per sample: fails on a batch


def test_functions_that_do_not_broadcast_get_one_clear_error_and_run_on_devices():
    with pytest.raises(ValueError, match=r"_not_broadcasting failed on a batch of 3 samples \(.*device='lightning"):
        circuit(_not_broadcasting, N, n_layers=1, angles_per_layer=1, cost="zz")
    # Per sample, on a PennyLane device, the same function runs: ⟨Z₀Z₁⟩ = cos θ.
    ref = circuit(_not_broadcasting, N, n_layers=1, angles_per_layer=1, cost="zz", device="default.qubit")
    theta = torch.tensor([[0.4]], dtype=torch.float64)
    assert ref.cost(theta).item() == pytest.approx(math.cos(0.4), abs=1e-12)
    assert ref.grad(theta).item() == pytest.approx(-math.sin(0.4), abs=1e-12)


def test_bad_ansatz_arguments():
    with pytest.raises(TypeError, match="from_qnode"):
        circuit(qnode, N, shape=(2, 2))
    with pytest.raises(TypeError, match="use a name in"):
        circuit(3, N)
    with pytest.raises(ValueError, match="angles_per_layer apply to a function ansatz"):
        circuit("random_pauli", N, 2, angles_per_layer=3)


def _qnode_returning(measure):
    @qml.qnode(qml.device("default.qubit", wires=2))
    def node(params):
        qml.RX(params[0], wires=0)
        return measure()

    return node


@pytest.mark.parametrize("measure,match", [
    (lambda: (qml.expval(qml.Z(0)), qml.expval(qml.Z(1))), "returns 2 measurements"),
    (lambda: qml.probs(wires=[0, 1]), "returns ProbabilityMP.*not probs"),
    (lambda: qml.sample(wires=[0]), "returns SampleMP"),
    (lambda: qml.var(qml.Z(0)), "returns VarianceMP"),
])
def test_bad_qnodes_name_the_measurement(measure, match):
    with pytest.raises(ValueError, match=match):
        from_qnode(_qnode_returning(measure), shape=(1,))


def test_from_qnode_refuses_what_the_qnode_fixes():
    with pytest.raises(ValueError, match=r"sets \['cost'\] from the QNode"):
        from_qnode(qnode, shape=(2, 2), cost="zz")
    with pytest.raises(TypeError, match="must be a qml.QNode"):
        from_qnode(templates, shape=(8, 3))
