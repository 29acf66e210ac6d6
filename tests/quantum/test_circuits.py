"""CircuitModel on the engine against PennyLane devices, finite differences and bad input."""
import pytest
import torch

import qcgrad as qg
from qcgrad.quantum import circuit

CASES = [(a, c) for a in ("random_pauli", "tensor_product") for c in ("zz", "global", "local")]
# complex128 round-off over a few dozen gates is ~1e-15; 1e-10 is the contract in DESIGN.md.
TOL = 1e-10


def _params(model, s=3, seed=1):
    return model.sample_params(torch.Generator().manual_seed(seed), s)


@pytest.mark.parametrize("device", ["default.qubit", "lightning.qubit"])
@pytest.mark.parametrize("ansatz,cost", CASES)
def test_engine_matches_pennylane_devices(ansatz, cost, device):
    for n in (2, 3):
        eng = circuit(ansatz, n, 2, cost=cost)
        ref = circuit(ansatz, n, 2, cost=cost, device=device)
        p = _params(eng)
        torch.testing.assert_close(eng.cost(p), ref.cost(p), atol=TOL, rtol=0)
        g_ref = ref.grad(p)
        torch.testing.assert_close(eng.grad(p), g_ref, atol=TOL, rtol=0)  # adjoint path
        idx = torch.tensor([0, n - 1])
        torch.testing.assert_close(eng.grad(p, idx), g_ref[:, idx], atol=TOL, rtol=0)  # shift path


def test_state_matches_default_qubit_and_is_differentiable():
    eng = circuit("random_pauli", 3, 2)
    ref = circuit("random_pauli", 3, 2, device="default.qubit")
    p = _params(eng)
    torch.testing.assert_close(eng.state(p), ref.state(p), atol=TOL, rtol=0)
    q = p.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(eng.cost(q).sum(), q)
    torch.testing.assert_close(g * eng.trainable, eng.grad(p), atol=TOL, rtol=0)


@pytest.mark.parametrize("ansatz,cost", CASES)
def test_gradients_match_central_differences(ansatz, cost):
    model = circuit(ansatz, 3, 2, cost=cost)
    p = _params(model, s=2)
    g = model.grad(p)
    h = 1e-5  # central difference error ~h²·|C'''|/6 ≲ 1e-10, round-off ~1e-16/h = 1e-11
    for i in torch.nonzero(model.trainable)[:, 0].tolist():
        e = torch.zeros(model.n_params, dtype=torch.float64)
        e[i] = h
        fd = (model.cost(p + e) - model.cost(p - e)) / (2 * h)
        torch.testing.assert_close(g[:, i], fd, atol=1e-8, rtol=0)


def test_frozen_gate_codes_get_zero_gradient_and_groups():
    model = circuit("random_pauli", 3, 4)
    assert model.n_params == 2 * 3 * 4 and model.frozen == ("gates",)
    assert [k for k in model.param_groups if k.startswith("layer:")] == [f"layer:{k}" for k in range(4)]
    g = model.grad(_params(model))
    assert torch.all(g[:, model.param_groups["gates"]] == 0)
    assert model.describe() == {"family": "quantum", "ansatz": "random_pauli", "n_qubits": 3, "n_layers": 4,
                                "cost": "zz", "init": "uniform", "device": "engine"}


def test_tensor_product_has_one_layer_whatever_n_layers():
    model = circuit("tensor_product", 3, 5, cost="local")
    assert model.n_params == 3 and list(model.param_groups) == ["layer:0"]
    assert model.describe()["n_layers"] == 5


def test_same_seed_same_gradients_for_any_chunk_size():
    model = circuit("random_pauli", 4, 3)
    full = qg.per_sample_gradients(model, 40, seed=7, params="all")
    chunked = qg.per_sample_gradients(model, 40, seed=7, params="all", chunk_size=7)
    small_memory = circuit("random_pauli", 4, 3, max_memory=16 * 6 * 16 * 5)  # 5 samples per batch
    tiny = qg.per_sample_gradients(small_memory, 40, seed=7, params="all")
    # Samples are independent rows of batched kernels; only summation order could differ.
    torch.testing.assert_close(full, chunked, atol=1e-14, rtol=0)
    torch.testing.assert_close(full, tiny, atol=1e-14, rtol=0)
    first = qg.per_sample_gradients(small_memory, 40, seed=7, params="first", chunk_size=9)
    torch.testing.assert_close(first, full[:, :1], atol=1e-14, rtol=0)


def test_complex64_on_request():
    model = circuit("random_pauli", 3, 2, dtype=torch.float32)
    ref = circuit("random_pauli", 3, 2)
    p = _params(model)
    assert model.state(p).dtype == torch.complex64
    torch.testing.assert_close(model.grad(p).double(), ref.grad(p), atol=1e-5, rtol=0)


@pytest.mark.parametrize("kwargs,match", [
    ({"n_qubits": 0}, "n_qubits=0"),
    ({"n_layers": -1}, "n_layers=-1"),
    ({"ansatz": "qaoa"}, "ansatz='qaoa'.*random_pauli"),
    ({"cost": "energy"}, "cost='energy'.*global"),
    ({"init": "he"}, "init='he'.*uniform"),
    ({"n_qubits": 1, "cost": "zz"}, "cost='zz'.*2 or more"),
])
def test_bad_input_names_value_and_allowed(kwargs, match):
    args = {"ansatz": "random_pauli", "n_qubits": 3, "n_layers": 2} | kwargs
    with pytest.raises(ValueError, match=match):
        circuit(**args)


def test_bad_types_and_devices():
    with pytest.raises(ValueError, match="n_qubits=2.5 is not allowed; it must be an int ≥ 1"):
        circuit("random_pauli", 2.5, 2)
    with pytest.raises(TypeError, match="dtype=torch.int64.*float64"):
        circuit("random_pauli", 2, 2, dtype=torch.int64)
    with pytest.raises(ImportError, match="lightning.gpu.*pennylane-lightning-gpu"):
        circuit("random_pauli", 2, 2, device="lightning.gpu")
    # A plugin no extra of qcgrad installs, so the test means the same with or without [qiskit].
    with pytest.raises(ImportError, match="braket.local.qubit.*amazon-braket-pennylane-plugin"):
        circuit("random_pauli", 2, 2, device="braket.local.qubit")
    with pytest.raises(ValueError, match=r"expected \[S, 8\]"):
        circuit("random_pauli", 2, 2).cost(torch.zeros(3, 5))


def test_gradient_tolerance_bounds_rounding_of_exact_zeros():
    # ‖O‖₁: zz 1, the global cost I − |0…0⟩⟨0…0| 2, tfim on 3 qubits with h = 0.5: 2 + 3·0.5.
    eps = torch.finfo(torch.float64).eps
    assert circuit("random_pauli", 3, 2, cost="zz").gradient_tolerance() == 128 * eps
    assert circuit("random_pauli", 3, 2, cost="global").gradient_tolerance() == 2 * 128 * eps
    assert circuit("random_pauli", 3, 2, cost="tfim:h=0.5").gradient_tolerance() == pytest.approx(3.5 * 128 * eps)
    assert circuit("random_pauli", 3, 2, dtype=torch.float32).gradient_tolerance() == \
        128 * torch.finfo(torch.float32).eps
    # An RZ right before the Z measurement on its wire has ∂C = 0 for every angle (it commutes with
    # Z₀Z₁ and the CZs after it); the engine's values are rounding noise inside the tolerance, and
    # every live partial lies far above it.
    model = circuit("random_pauli", 6, 40)
    p = _params(model, s=20)
    last = 40 * 6 + 39 * 6
    p[:, last: last + 2] = 2.0  # gate code 2: RZ on wires 0, 1 in the last layer
    g = model.grad(p)
    dead = g[:, [39 * 6, 39 * 6 + 1]]
    assert dead.abs().max() <= model.gradient_tolerance()
    assert g[:, :6].abs().max(0).values.min() > 1e3 * model.gradient_tolerance()


def test_structural_zeros_are_a_mask_or_unknown():
    model = circuit("random_pauli", 6, 3)
    mask = model.structural_zeros()
    if mask is None:  # qcgrad.quantum.lightcone not present
        return
    assert mask.dtype == torch.bool and mask.shape == (model.n_params,)
    # Each CZ chain widens Z₀Z₁'s backward light cone by one wire: the last layer's rotations on
    # wires 3..5 and the first layer's on wires 4, 5 lie outside it, the first layer's 0..3 inside.
    assert mask[[2 * 6 + 3, 2 * 6 + 4, 2 * 6 + 5, 4, 5]].all() and not mask[:4].any()
    g = model.grad(_params(model, s=4))
    assert g[:, mask].abs().max() <= model.gradient_tolerance()


def test_construction_does_not_build_the_cost_diagonal(monkeypatch):
    # A 30-qubit model must not allocate 2^30 numbers before it runs; the diagonal is built on use.
    from qcgrad.quantum.costs import Cost

    def fail(self, n):
        raise AssertionError(f"diagonal of {n} qubits built at construction")

    monkeypatch.setattr(Cost, "diagonal", fail)
    for cost in ("zz", "global", "local", "tfim"):
        assert circuit("random_pauli", 30, 2, cost=cost).n_params == 120
    monkeypatch.undo()
    model = circuit("tensor_product", 2, cost="zz")
    assert model.diagonal.tolist() == [1.0, -1.0, -1.0, 1.0]
