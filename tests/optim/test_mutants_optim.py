"""Optimizers and metrics: the checks mutation testing asked for (defaults against closed forms)."""
import pennylane as qml
import pytest
import torch
from optim_toys import Quadratic
from test_metric import _pennylane_metric

import qcgrad as qg
from qcgrad.optim.adam import Adam
from qcgrad.optim.blocks import parameter_blocks
from qcgrad.optim.metric import fisher_metric, fubini_study_metric, mixed_state_metric, row_jacobian, state_jacobian
from qcgrad.optim.optimizers import make_optimizer, optimizer_options
from qcgrad.optim.training import train


def test_adam_default_learning_rate_is_torchs_1e_minus_3():
    # First Adam step is −lr·g/(|g| + ε) entrywise (m̂ = g, v̂ = g²), with torch's default lr = 1e-3.
    p = torch.zeros(1, 2, dtype=torch.float64, requires_grad=True)
    opt = Adam([p])
    p.grad = torch.tensor([[2.0, -0.5]], dtype=torch.float64)
    opt.step()
    expected = -1e-3 * p.grad / (p.grad.abs() + 1e-8)
    torch.testing.assert_close(p.detach(), expected, rtol=1e-12, atol=0)


class _Linear:
    """Outputs X θ on a fixed batch and nothing else: no ``likelihood``, no ``noise_var``."""

    def __init__(self, x: torch.Tensor) -> None:
        self.x = x

    def forward(self, theta: torch.Tensor) -> torch.Tensor:
        return (self.x @ theta)[:, None]


def test_fisher_defaults_to_a_unit_variance_gaussian_and_scales_with_noise_var():
    # Gaussian outputs X θ with variance σ²: F = XᵀX/(B σ²) exactly; σ² = 1 when the model sets none.
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    model = _Linear(x)
    theta = torch.zeros(2, 3, dtype=torch.float64)
    torch.testing.assert_close(fisher_metric(model, theta), (x.T @ x / 5).expand(2, 3, 3), rtol=1e-12, atol=1e-14)
    model.noise_var = 4.0
    torch.testing.assert_close(fisher_metric(model, theta), (x.T @ x / 20).expand(2, 3, 3), rtol=1e-12, atol=1e-14)


def test_sgd_on_torchs_foreach_path_takes_the_plain_gradient_step():
    # foreach=True replaces the default fused kernel (torch refuses both at once); the step is θ − lr·g.
    p = torch.tensor([[1.0, -2.0]], dtype=torch.float64, requires_grad=True)
    opt = make_optimizer("sgd", p, Quadratic(torch.ones(1)), lr=0.1, foreach=True)
    p.grad = torch.tensor([[0.5, 4.0]], dtype=torch.float64)
    opt.step()
    torch.testing.assert_close(p.detach(), torch.tensor([[0.95, -2.4]], dtype=torch.float64), rtol=1e-15, atol=0)


def test_optimizer_options_list_the_knobs_but_not_lr():
    # lr is train's own argument; the torch optimizers' other keywords are the options.
    options = optimizer_options("momentum")
    assert "lr" not in options and {"momentum", "nesterov", "weight_decay"} <= set(options)


def test_train_records_its_dtype_by_name():
    result = train(Quadratic(torch.ones(2, dtype=torch.float64)), "sgd", steps=1, n_runs=1, dtype=torch.float64)
    assert result.config["dtype"] == "float64"


def test_train_uses_adam_by_default():
    # The default optimizer is Adam: the first step of every entry is −lr·g/(|g| + ε) = −lr·sign(g).
    model = Quadratic(torch.ones(2, dtype=torch.float64))
    init = torch.tensor([[1.0, -3.0, 0.5]], dtype=torch.float64)
    result = train(model, steps=1, n_runs=1, lr=0.01, init=init, dtype=torch.float64)
    assert result.config["optimizer"] == "adam"
    torch.testing.assert_close(result.params[0, :2], torch.tensor([0.99, -2.99], dtype=torch.float64),
                               rtol=0, atol=1e-9)


def test_train_clips_each_gradient_entry_to_clip_value():
    # Quadratic with c = 1: g = θ = (4, −0.2); clamped to ±0.5 → (0.5, −0.2); one SGD step at lr 1 gives (3.5, 0).
    model = Quadratic(torch.ones(2, dtype=torch.float64))
    init = torch.tensor([[4.0, -0.2, 0.0]], dtype=torch.float64)
    result = train(model, "sgd", steps=1, n_runs=1, lr=1.0, init=init, clip_value=0.5, dtype=torch.float64)
    torch.testing.assert_close(result.params[0, :2], torch.tensor([3.5, 0.0], dtype=torch.float64),
                               rtol=0, atol=1e-12)


def _two_angle_circuit(p, wires):
    """U2(φ, λ) after an RX, so that neither angle is a global phase; one parameter per angle."""
    qml.RY(p[0], wires=wires[0])
    qml.RX(p[1], wires=wires[1])
    qml.U2(p[2], p[3], wires=wires[1])
    qml.CNOT(wires=[wires[0], wires[1]])
    qml.RX(p[4], wires=wires[0])


def _finite_difference_metric(fn, n_qubits: int, theta: torch.Tensor, h: float = 1e-5) -> torch.Tensor:
    """Fubini–Study metric Re[⟨∂ᵢψ|∂ⱼψ⟩ − ⟨∂ᵢψ|ψ⟩⟨ψ|∂ⱼψ⟩] from central differences of default.qubit's
    state: O(h²) = 1e-10 truncation plus 1e-16/h = 1e-11 rounding per derivative."""
    dev = qml.device("default.qubit", wires=n_qubits)
    node = qml.QNode(lambda p: (fn(p, list(range(n_qubits))), qml.state())[1], dev)
    psi = torch.as_tensor(node(theta.numpy()))
    eye = torch.eye(len(theta), dtype=torch.float64) * h
    d = torch.stack([(torch.as_tensor(node((theta + e).numpy())) - torch.as_tensor(node((theta - e).numpy())))
                     / (2 * h) for e in eye])
    overlap = d.conj() @ psi  # ⟨∂ᵢψ|ψ⟩
    return (d.conj() @ d.T - overlap[:, None] * overlap.conj()[None, :]).real


def test_a_two_angle_gate_gives_each_angle_its_own_metric_entry():
    # U2 carries two trainable angles: the block-diagonal metric must still keep each angle's own diagonal
    # entry (exact in every block approximation), which a gate read as one angle would drop to zero.
    qc = qg.quantum.circuit(_two_angle_circuit, n_qubits=2, shape=(5,), cost="zz")
    theta = qc.sample_params(torch.Generator().manual_seed(1), 1)
    truth = _finite_difference_metric(_two_angle_circuit, 2, theta[0])
    assert truth[3, 3] > 0.05  # λ is not a global phase here
    torch.testing.assert_close(fubini_study_metric(qc, theta, "full")[0], truth, rtol=0, atol=1e-8)
    block = fubini_study_metric(qc, theta, "block-diag")[0]
    torch.testing.assert_close(torch.diagonal(block), torch.diagonal(truth), rtol=0, atol=1e-8)
    assert (parameter_blocks(qc) >= 0).all()


def _shared_first_layer(p, wires):
    qml.RX(p[0], wires=wires[0])
    qml.RX(p[0], wires=wires[1])  # one parameter drives two gates of the first parametrized layer
    qml.RX(p[1], wires=wires[2])
    qml.CNOT(wires=[wires[0], wires[1]])


def test_a_parameter_shared_within_the_first_layer_falls_back_to_the_parameter_groups():
    # The documented rule: a parameter that drives several gates has no per-parameter layer, so the blocks
    # are the model's param_groups (here one group per parameter: no off-diagonal entry is kept), even when
    # every sharing happens in layer 0 (a layer index of 0 must count as "already placed").
    qc = qg.quantum.circuit(_shared_first_layer, n_qubits=3, shape=(2,), cost="zz")
    assert list(qc.param_groups) == ["layer:0", "layer:1"]
    assert parameter_blocks(qc).tolist() == [0, 1]


def test_row_jacobian_of_an_output_that_ignores_the_parameters_is_zero():
    # The output depends on another leaf only: d out / d params = 0 exactly, not an autograd error.
    weight = torch.ones(1, requires_grad=True)
    value, jac = row_jacobian(lambda p: (2 * weight).expand(p.shape[0], 2), torch.zeros(3, 2))
    assert torch.equal(value, torch.full((3, 2), 2.0)) and torch.equal(jac, torch.zeros(3, 2, 2))


def test_noisy_metric_of_an_ansatz_without_pauli_shifts_matches_pennylane():
    # hva ties one angle to several gates (no ½U(θ+π) shift rule): ∂ρ comes from autograd. At noise 0 the
    # mixed-state metric (¼ QFI) is the pure state's Fubini–Study metric: PennyLane's metric_tensor.
    qc = qg.quantum.circuit("hva", n_qubits=2, n_layers=2, cost="tfim", noise="depolarizing:0")
    assert not qc.ansatz.pauli_shift
    theta = qc.sample_params(torch.Generator().manual_seed(2), 1)
    torch.testing.assert_close(mixed_state_metric(qc, theta)[0], _pennylane_metric(qc, theta[0], None),
                               rtol=0, atol=1e-10)


def test_state_jacobian_of_float32_parameters_is_taken_in_float64():
    # θ + π rounded to float32 is off by ~1e-7; the shifts are taken after casting to float64, so float32
    # parameters (exactly representable) give the float64 Jacobian to rounding.
    qc = qg.quantum.circuit("hardware_efficient", n_qubits=2, n_layers=2, cost="tfim")
    theta = qc.sample_params(torch.Generator().manual_seed(5), 2).float()
    _, jac32 = state_jacobian(qc, theta)
    _, jac64 = state_jacobian(qc, theta.double())
    torch.testing.assert_close(jac32, jac64, rtol=0, atol=1e-13)


def _bell_then_barrier(p, wires):
    qml.Hadamard(wires=wires[0])
    qml.CNOT(wires=[wires[0], wires[1]])
    qml.RX(p[0], wires=wires[0])
    qml.Barrier(wires=wires)
    qml.RX(p[1], wires=wires[1])


def test_a_barrier_separates_parametrized_layers_as_in_pennylane():
    # On the Bell state the two RX generators are correlated (⟨X₀X₁⟩ = 1: the full metric has 1/4 off the
    # diagonal); the barrier puts RX(θ₀) among RX(θ₁)'s ancestors, so PennyLane's block-diagonal metric
    # keeps them in separate layers and drops that entry.
    qc = qg.quantum.circuit(_bell_then_barrier, n_qubits=2, shape=(2,), cost="zz")
    theta = qc.sample_params(torch.Generator().manual_seed(1), 1)
    assert parameter_blocks(qc).tolist() == [0, 1]
    ours = fubini_study_metric(qc, theta, "block-diag")[0]
    torch.testing.assert_close(ours, _pennylane_metric(qc, theta[0], "block-diag"), rtol=0, atol=1e-10)
    assert fubini_study_metric(qc, theta, "full")[0, 0, 1].item() == pytest.approx(0.25, abs=1e-12)


def test_a_static_loss_scale_is_recorded_as_given():
    # The scale is kept in float64: 1000.1 (not a float32 number) is recorded exactly at every step.
    model = Quadratic(torch.ones(2, dtype=torch.float64))
    init = torch.tensor([[1.0, -2.0, 0.0], [0.5, 0.5, 0.0]], dtype=torch.float32)
    result = train(model, "sgd", steps=2, n_runs=2, init=init, dtype=torch.float16, loss_scale=1000.1)
    assert result.loss_scale.dtype == torch.float64
    assert result.loss_scale.tolist() == [[1000.1, 1000.1], [1000.1, 1000.1]]


def _summed_angle(p, wires):
    qml.RX(p[0] + p[1], wires=wires[0])  # one gate angle from two parameters
    qml.RY(p[2], wires=wires[1])


def test_a_gate_angle_of_several_parameters_falls_back_to_the_parameter_groups():
    # No gate belongs to one parameter, so there are no per-parameter layers: every parameter keeps a
    # block (its own group here); none may be left at −1, which would drop its row of the metric.
    qc = qg.quantum.circuit(_summed_angle, n_qubits=2, shape=(3,), cost="zz")
    assert parameter_blocks(qc).tolist() == [0, 1, 2]



def test_parameters_in_no_group_keep_their_own_diagonal_block():
    # A model whose groups cover only part of its parameters: each loose parameter is a block of its own,
    # so the block-diagonal metric keeps its diagonal entry instead of dropping its whole row (block −1).
    class Partial:
        n_params = 3
        param_groups = {"first": slice(0, 1)}
        trainable = torch.ones(3, dtype=torch.bool)

    assert parameter_blocks(Partial()).tolist() == [0, 1, 2]
