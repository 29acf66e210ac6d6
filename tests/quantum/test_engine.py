"""The engine on gates and circuits beyond the built-in ansätze, against PennyLane."""
import sys
import weakref

import pennylane as qml
import pytest
import torch
from same_name_gates import same_name_gates, same_name_reference

from qcgrad.quantum import engine, ops

TOL = 1e-10


def _generic(params, wires):
    # Non-adjacent and reversed two-qubit gates, a three-qubit gate, a fixed unitary, a
    # parameter used twice with a minus sign and a generic parametrised two-qubit gate.
    qml.Hadamard(wires[0])
    qml.RX(params[..., 0], wires=wires[1])
    qml.CNOT(wires=[wires[3], wires[0]])
    qml.CRX(params[..., 1], wires=[wires[2], wires[0]])
    qml.Toffoli(wires=[wires[0], wires[1], wires[3]])
    qml.QubitUnitary(qml.matrix(qml.SX(0)), wires=wires[2])
    qml.RZ(-params[..., 0], wires=wires[3])
    qml.IsingXX(params[..., 2], wires=[wires[1], wires[3]])
    qml.PhaseShift(params[..., 1] * 0.5, wires=wires[2])
    qml.StronglyEntanglingLayers(params[..., 3:9].reshape(params.shape[:-1] + (1, 2, 3)), wires=wires[:2])


def _record(params, wires):
    with qml.queuing.AnnotatedQueue() as q:
        _generic(params, wires)
    return list(q.queue)


WIRES = ["a", "b", "c", "d"]
DIAG = torch.linspace(-1, 1, 16, dtype=torch.float64)  # a generic real diagonal observable


def _reference(row):
    dev = qml.device("default.qubit", wires=WIRES)

    @qml.qnode(dev, interface="torch", diff_method="backprop")
    def state(p):
        _generic(p, WIRES)
        return qml.state()

    p = row.clone().requires_grad_(True)
    psi = state(p)
    cost = (psi.abs() ** 2 @ DIAG)
    (g,) = torch.autograd.grad(cost, p)
    return psi.detach(), cost.detach(), g


def test_generic_circuit_state_cost_and_adjoint_gradient():
    params = torch.rand(3, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 6
    state = engine.simulate(_record(params, WIRES), WIRES, 3)
    p = params.clone().requires_grad_(True)
    cost, grad = engine.adjoint_gradient(_record(p, WIRES), WIRES, 3, DIAG, p)
    for s in range(3):
        psi, c, g = _reference(params[s])
        torch.testing.assert_close(state[s], psi, atol=TOL, rtol=0)
        torch.testing.assert_close(cost[s], c, atol=TOL, rtol=0)
        torch.testing.assert_close(grad[s], g, atol=TOL, rtol=0)


def test_adjoint_gradient_of_a_view_of_params_is_the_same():
    # Gate parameters that are views of a view of params go through autograd, not by column.
    params = torch.rand(3, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 6
    p = params.clone().requires_grad_(True)
    _, grad = engine.adjoint_gradient(_record(p, WIRES), WIRES, 3, DIAG, p)
    wide = torch.cat([torch.zeros(3, 2, dtype=torch.float64), params], 1).requires_grad_(True)
    view = wide[:, 2:]
    _, grad_view = engine.adjoint_gradient(_record(view, WIRES), WIRES, 3, DIAG, view)
    torch.testing.assert_close(grad_view, grad, atol=TOL, rtol=0)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="CPython moves call arguments into the callee from 3.11")
def test_adjoint_frees_a_recording_nobody_keeps(monkeypatch):
    from qcgrad.quantum import circuit
    qc = circuit("random_pauli", n_qubits=3, n_layers=2, lightcone=False)  # the adjoint path's recording only
    recorded, alive = [], []
    expand, seed = engine._expand, engine._seed_adjoint

    def spy_expand(ops, *args, **kwargs):
        recorded.extend(weakref.ref(op) for op in ops if op.name == "AxisRotation")
        return expand(ops, *args, **kwargs)

    def spy_seed(*args):
        alive.append(sum(r() is not None for r in recorded))
        return seed(*args)

    monkeypatch.setattr(engine, "_expand", spy_expand)
    monkeypatch.setattr(engine, "_seed_adjoint", spy_seed)
    qc.grad(qc.sample_params(torch.Generator().manual_seed(0), 2))
    assert len(recorded) == 6 and alive == [0]


def test_gates_of_one_name_with_different_matrices():
    with qml.queuing.AnnotatedQueue() as q:
        same_name_gates(WIRES[:3])
    state = engine.simulate(q.queue, WIRES[:3], 1)[0]
    torch.testing.assert_close(state, same_name_reference(WIRES[:3]), atol=TOL, rtol=0)


def test_segments_do_not_change_results(monkeypatch):
    params = torch.rand(2, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 6
    p = params.clone().requires_grad_(True)
    cost, grad = engine.adjoint_gradient(_record(p, WIRES), WIRES, 2, DIAG, p)
    monkeypatch.setattr(engine, "SEGMENT", 3)
    monkeypatch.setattr(engine, "block_wires", lambda n, device: 1)
    cost3, grad3 = engine.adjoint_gradient(_record(p, WIRES), WIRES, 2, DIAG, p)
    torch.testing.assert_close(cost3, cost, atol=TOL, rtol=0)
    torch.testing.assert_close(grad3, grad, atol=TOL, rtol=0)


@pytest.mark.parametrize("name", sorted(engine.BUILDERS))
def test_builders_equal_pennylane_matrices(name):
    op_type = getattr(ops, name, None) or getattr(qml, name)
    t = torch.tensor([0.3, -1.7, 4.0], dtype=torch.float64)
    args = [t * (k + 1) for k in range(op_type.num_params)]
    if op_type is ops.AxisRotation:  # the second parameter is the axis code
        args[1] = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)
    torch.testing.assert_close(engine.BUILDERS[name](*args, torch.complex128),
                               torch.as_tensor(op_type.compute_matrix(*args)).to(torch.complex128), atol=1e-14, rtol=0)


def test_bad_dtype_and_mode():
    with pytest.raises(TypeError, match="dtype=torch.float16.*float64"):
        engine.simulate([qml.PauliX(0)], [0], 1, dtype=torch.float16)
    with pytest.raises(ValueError, match="mode='both'.*adjoint"):
        engine.chunk_size(4, "both")
    with pytest.raises(ValueError, match="wire 'z'"):
        engine.simulate([qml.PauliX("z")], [0], 1)


# --- Pauli-sum Hamiltonians ----------------------------------------------------------------

def _random_pauli_sum(seed, wires, n_terms=8):
    # Random words (identity factors included) with random real coefficients, plus a constant.
    gen = torch.Generator().manual_seed(seed)
    coeffs, words = [0.7], [qml.Identity(wires[0])]
    for _ in range(n_terms):
        letters = torch.randint(0, 4, (len(wires),), generator=gen).tolist()
        factors = [(qml.Identity, qml.X, qml.Y, qml.Z)[k](w) for k, w in zip(letters, wires, strict=True)]
        word = factors[0]
        for f in factors[1:]:
            word = word @ f
        coeffs.append(float(torch.rand((), generator=gen, dtype=torch.float64) * 2 - 1))
        words.append(word)
    return qml.Hamiltonian(coeffs, words)


def _tfim(wires, h):
    return (qml.sum(*[qml.Z(a) @ qml.Z(b) for a, b in zip(wires[:-1], wires[1:], strict=True)])
            + h * qml.sum(*[qml.X(w) for w in wires]))


def _heisenberg(wires):
    return qml.sum(*[p(a) @ p(b) for a, b in zip(wires[:-1], wires[1:], strict=True) for p in (qml.X, qml.Y, qml.Z)])


def _reference_hamiltonian(row, hamiltonian):
    dev = qml.device("default.qubit", wires=WIRES)

    @qml.qnode(dev, interface="torch", diff_method="backprop")
    def cost(p):
        _generic(p, WIRES)
        return qml.expval(hamiltonian)

    p = row.clone().requires_grad_(True)
    c = cost(p)
    (g,) = torch.autograd.grad(c, p)
    return c.detach(), g


@pytest.mark.parametrize("name", ["random0", "random1", "random2", "tfim", "heisenberg"])
def test_pauli_sum_cost_and_adjoint_gradient_equal_default_qubit(name):
    hamiltonian = {"tfim": lambda: _tfim(WIRES, 0.8), "heisenberg": lambda: _heisenberg(WIRES)}.get(
        name, lambda: _random_pauli_sum(int(name[-1]), WIRES))()
    h = engine.pauli_sum(hamiltonian, WIRES)
    params = torch.rand(2, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(2)) * 6
    p = params.clone().requires_grad_(True)
    cost, grad = engine.adjoint_gradient(_record(p, WIRES), WIRES, 2, h, p)
    forward = engine.expectation(engine.simulate(_record(params, WIRES), WIRES, 2), h)
    for s in range(2):
        c, g = _reference_hamiltonian(params[s], hamiltonian)
        torch.testing.assert_close(cost[s], c, atol=TOL, rtol=0)
        torch.testing.assert_close(forward[s], c, atol=TOL, rtol=0)
        torch.testing.assert_close(grad[s], g, atol=TOL, rtol=0)


def test_pauli_sum_apply_equals_dense_matrix_and_is_differentiable():
    hamiltonian = _random_pauli_sum(3, WIRES, n_terms=12)
    h = engine.pauli_sum(hamiltonian, WIRES)
    gen = torch.Generator().manual_seed(3)
    psi = torch.randn(3, 16, dtype=torch.complex128, generator=gen)
    dense = torch.as_tensor(qml.matrix(hamiltonian, wire_order=WIRES))
    torch.testing.assert_close(h.apply(psi), psi @ dense.T, atol=TOL, rtol=0)
    # complex64 states get complex64/float32 diagonals
    assert h.apply(psi.to(torch.complex64)).dtype == torch.complex64
    # d⟨ψ|H|ψ⟩/dψ* = Hψ: torch's gradient for a real loss of a complex input is 2 Hψ here.
    x = psi.clone().requires_grad_(True)
    (gx,) = torch.autograd.grad(h.expectation(x).sum(), x)
    torch.testing.assert_close(gx, 2 * psi @ dense.T, atol=TOL, rtol=0)


def test_pauli_sum_rejects_other_observables_and_wires():
    with pytest.raises(ValueError, match="not a sum of Pauli words"):
        engine.pauli_sum(qml.Projector([0, 0], wires=[0, 1]), [0, 1])
    with pytest.raises(ValueError, match="wire 'q'.*circuit wires"):
        engine.pauli_sum(qml.X("q"), [0, 1])


# --- layered circuits: the rotating-block fast path ---------------------------------------

def _layered(params, wires, n_layers=3):
    n = len(wires)
    for layer in range(n_layers):
        for q, w in enumerate(wires):
            i = 3 * (layer * n + q)
            qml.Rot(params[..., i], params[..., i + 1], params[..., i + 2], wires=w)
        for a, b in zip(wires[:-1], wires[1:], strict=True):
            qml.CZ(wires=[a, b])
        qml.CNOT(wires=[wires[-1], wires[0]])


@pytest.mark.parametrize("block_wires, gemm_columns", [(1, 1 << 16), (2, 1 << 16), (4, 1 << 16), (4, 1)])
def test_layered_circuit_fast_path_equals_default_qubit(monkeypatch, block_wires, gemm_columns):
    # gemm_columns=1 applies every fused block sample by sample (as n >= 21 does).
    monkeypatch.setattr(engine, "block_wires", lambda n, device: block_wires)
    monkeypatch.setattr(engine, "GEMM_COLUMNS", gemm_columns)
    wires = list(range(5))
    params = torch.rand(2, 45, dtype=torch.float64, generator=torch.Generator().manual_seed(4)) * 6

    def record(p):
        with qml.queuing.AnnotatedQueue() as q:
            _layered(p, wires)
        return list(q.queue)

    dev = qml.device("default.qubit", wires=wires)
    node = qml.QNode(lambda p: (_layered(p, wires), qml.state())[1], dev, interface="torch")
    state = engine.simulate(record(params), wires, 2)
    with torch.enable_grad():  # autograd path: no in-place buffers
        p = params.clone().requires_grad_(True)
        traced = engine.simulate(record(p), wires, 2)
    for s in range(2):
        ref = node(params[s])
        torch.testing.assert_close(state[s], ref, atol=TOL, rtol=0)
        torch.testing.assert_close(traced[s].detach(), ref, atol=TOL, rtol=0)


def test_thread_cap_restores_the_callers_setting(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setattr(engine, "MIN_AMPLITUDES_PER_THREAD", 1 << 30)
    with engine._cpu_threads(16, torch.device("cpu")):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_equals_cpu():
    wires = list(range(5))
    params = torch.rand(3, 45, dtype=torch.float64, generator=torch.Generator().manual_seed(5)) * 6
    h = engine.pauli_sum(_tfim(wires, 0.5), wires)

    def run(p):
        p = p.clone().requires_grad_(True)
        with qml.queuing.AnnotatedQueue() as q:
            _layered(p, wires)
        return engine.adjoint_gradient(list(q.queue), wires, 3, h, p)

    cost, grad = run(params.cuda())
    assert cost.device.type == "cuda" and grad.device.type == "cuda"
    cost_cpu, grad_cpu = run(params)
    torch.testing.assert_close(cost.cpu(), cost_cpu, atol=TOL, rtol=0)
    torch.testing.assert_close(grad.cpu(), grad_cpu, atol=TOL, rtol=0)


def test_block_width_follows_device_and_state_size():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert [engine.block_wires(n, cpu) for n in (2, 5, 6, 8, 9, 20)] == [1, 1, 2, 2, 3, 3]
    assert engine.block_wires(2, cuda) == engine.block_wires(24, cuda) == engine.BLOCK_WIRES


def test_chunk_size_refuses_a_sample_over_the_budget_with_the_numbers():
    # #15.6: it returned 1 even when one state exceeded max_memory. 2^16 complex128 amplitudes
    # x 6 states = 6 MiB per adjoint sample; a 1 MiB budget must be refused, a 6 MiB one fits 1.
    with pytest.raises(ValueError, match=r"adjoint pass on 16 qubits needs 0.00586 GiB .*max_memory=1048576"):
        engine.chunk_size(16, "adjoint", max_memory=2**20)
    assert engine.chunk_size(16, "adjoint", max_memory=6 * 2**20) == 1
    assert engine.chunk_size(16, "adjoint", dtype=torch.complex64, max_memory=6 * 2**20) == 2


def test_chunk_size_at_100_qubits_is_a_value_error_not_an_overflow():
    with pytest.raises(ValueError, match=r"2\^100 complex64 amplitudes.*use fewer qubits"):
        engine.chunk_size(100, "forward", dtype=torch.complex64)


def test_adjoint_gradient_pulls_back_without_torch_symbolic_shapes():
    # The first all-partials call took 0.6-1.1 s, 0.5 s of it torch importing sympy on its first
    # autograd.grad with grad_outputs. The engine pulls back by closed forms / real scalars.
    import subprocess

    code = ("import sys, torch, qcgrad as qg\n"
            "m = qg.quantum.circuit('random_pauli', 3, 2)\n"
            "m.grad(m.sample_params(torch.Generator().manual_seed(0), 2))\n"
            "print('torch.fx.experimental.symbolic_shapes' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split()[-1] == "False"
