import pytest
import torch
from optim_toys import LinearGaussian, Quadratic, TorchCircuit, tfim

from qcgrad.optim.metric import fisher_metric
from qcgrad.optim.optimizers import ELEMENTWISE, OPTIMIZER_DESCRIPTIONS, OPTIMIZERS, MetricDescent, make_optimizer


def test_registry_names():
    assert set(OPTIMIZERS) == {"sgd", "momentum", "nesterov", "adam", "rmsprop", "adagrad",
                               "natural_gradient", "qng"}
    assert set(ELEMENTWISE) <= set(OPTIMIZERS)
    assert set(OPTIMIZER_DESCRIPTIONS) == set(OPTIMIZERS)
    assert "block-diagonal" in OPTIMIZER_DESCRIPTIONS["qng"].lower()  # the default metric is stated


def test_natural_gradient_step_is_inverse_fisher_times_gradient():
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(6, 3, generator=gen, dtype=torch.float64)
    model = LinearGaussian(x, torch.randn(6, generator=gen, dtype=torch.float64))
    theta = torch.randn(2, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    opt = make_optimizer("natural_gradient", theta, model, lr=0.5, damping=0.0)
    before = theta.detach().clone()
    theta.grad = model.grad(before)
    opt.step()
    fisher = x.T @ x / 6  # Gaussian, unit noise: F = JᵀJ/B with J = X
    expected = before - 0.5 * torch.linalg.solve(fisher, theta.grad.T).T
    assert torch.allclose(theta.detach(), expected, rtol=0, atol=1e-12)


def test_metric_descent_skips_masked_entries_and_damps():
    theta = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64, requires_grad=True)
    metric = lambda p: torch.diag_embed(torch.tensor([[2.0, 0.0, 4.0]], dtype=torch.float64))  # noqa: E731
    mask = torch.tensor([True, True, False])
    opt = MetricDescent([theta], metric, mask, lr=1.0, damping=1.0)
    theta.grad = torch.tensor([[3.0, 1.0, 5.0]], dtype=torch.float64)
    opt.step()
    # (G + I)⁻¹ g on the trainable entries: 3/3 and 1/1; the masked entry never moves
    assert theta.detach().tolist() == [[0.0, 1.0, 3.0]]


def test_qng_rejects_a_classical_model_and_natural_gradient_a_circuit():
    quad = Quadratic(torch.ones(2, dtype=torch.float64))
    with pytest.raises(TypeError, match="natural_gradient"):
        make_optimizer("qng", torch.zeros(1, 3, requires_grad=True), quad, lr=0.1)
    circ = TorchCircuit(1, [[("RX", 0)]], tfim(1))
    with pytest.raises(TypeError, match="qng"):
        fisher_metric(circ, torch.zeros(1, 1))


@pytest.mark.parametrize("name,lr,err", [("lbfgs", 0.1, "adam"), ("adam", 0.0, "lr")])
def test_make_optimizer_rejects_bad_input(name, lr, err):
    with pytest.raises(ValueError, match=err):
        make_optimizer(name, torch.zeros(1, 2, requires_grad=True), Quadratic(torch.ones(1)), lr=lr)


G1 = torch.tensor([[0.5, -2.0], [3.0, 0.25]], dtype=torch.float64)
G2 = torch.tensor([[-1.0, 4.0], [0.2, 0.5]], dtype=torch.float64)


def _two_steps(name: str, lr: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Parameters after one and after two steps from 0 with gradients G1 then G2."""
    theta = torch.zeros(2, 2, dtype=torch.float64, requires_grad=True)
    opt = make_optimizer(name, theta, Quadratic(torch.ones(1)), lr=lr)
    out = []
    for g in (G1, G2):
        theta.grad = g.clone()
        opt.step()
        out.append(theta.detach().clone())
    return out[0], out[1]


# Closed forms of the second update (the first is written inline), torch.optim conventions:
# momentum μ = 0.9, no dampening; RMSprop α = 0.99, ε = 1e-8; Adagrad ε = 1e-10.
@pytest.mark.parametrize("name,first,second", [
    ("sgd", lambda lr: -lr * G1, lambda lr: -lr * G2),
    ("momentum", lambda lr: -lr * G1, lambda lr: -lr * (0.9 * G1 + G2)),  # buffer b = μb + g
    ("nesterov", lambda lr: -lr * 1.9 * G1, lambda lr: -lr * (G2 + 0.9 * (0.9 * G1 + G2))),  # g + μb
    ("rmsprop", lambda lr: -lr * G1 / ((0.01 * G1**2).sqrt() + 1e-8),
     lambda lr: -lr * G2 / ((0.99 * 0.01 * G1**2 + 0.01 * G2**2).sqrt() + 1e-8)),
    ("adagrad", lambda lr: -lr * G1 / (G1.abs() + 1e-10),
     lambda lr: -lr * G2 / ((G1**2 + G2**2).sqrt() + 1e-10)),
    ("adam", lambda lr: -lr * G1 / (G1.abs() + 1e-8),
     lambda lr: -lr * ((0.09 * G1 + 0.1 * G2) / 0.19)
     / (((0.999 * 0.001 * G1**2 + 0.001 * G2**2) / (1 - 0.999**2)).sqrt() + 1e-8)),
])
def test_elementwise_optimizers_take_their_closed_form_steps(name, first, second):
    lr = 0.1
    one, two = _two_steps(name, lr)
    assert torch.allclose(one, first(lr), rtol=1e-13, atol=0)
    assert torch.allclose(two - one, second(lr), rtol=1e-13, atol=1e-16)


def test_qng_step_on_product_state_is_four_times_the_gradient_step():
    # RX(θ_q) on |0⟩ per qubit: metric ¼·I (¼ Var(X)); local cost ½ − ¼ Σ_q cos θ_q has gradient
    # sin θ/4, so θ ← θ − lr·4·sin θ/4 = θ − lr·sin θ for every approximation (the metric is diagonal)
    import qcgrad as qg

    qc = qg.quantum.circuit("tensor_product", n_qubits=2, cost="local")
    before = torch.tensor([[0.3, -1.2], [2.0, 0.7]], dtype=torch.float64)
    for approx in ("full", "block-diag", "diag"):
        theta = before.clone().requires_grad_(True)
        opt = make_optimizer("qng", theta, qc, lr=0.1, damping=0.0, approx=approx)
        theta.grad = qc.grad(before)
        opt.step()
        assert torch.allclose(theta.detach(), before - 0.1 * torch.sin(before), rtol=0, atol=1e-13)


def test_qng_on_a_noisy_circuit_uses_the_mixed_state_metric():
    # RX(θ) then depolarizing p: Bloch vector r(cos θ ẑ − sin θ ŷ), r = 1 − 4p/3; cost ½ − ½ r cos θ,
    # metric ¼ QFI = r²/4 (rotation orthogonal to r), so θ ← θ − lr·(4/r²)·(r sin θ/2) = θ − 2·lr·sin θ/r
    # (the noiseless metric ¼ would give θ − 2·lr·r·sin θ)
    import qcgrad as qg

    p, lr = 0.3, 0.05
    r = 1 - 4 * p / 3
    qc = qg.quantum.circuit("tensor_product", n_qubits=1, cost="local", noise=f"depolarizing:{p}")
    before = torch.tensor([[0.4], [2.5]], dtype=torch.float64)
    theta = before.clone().requires_grad_(True)
    opt = make_optimizer("qng", theta, qc, lr=lr, damping=0.0)
    theta.grad = qc.grad(before)
    opt.step()
    assert torch.allclose(theta.detach(), before - 2 * lr * torch.sin(before) / r, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name,bad,allowed", [("adam", "momentum", "betas"), ("sgd", "betas", "momentum"),
                                              ("qng", "aprox", "approx"), ("natural_gradient", "approx", "damping")])
def test_unknown_option_names_the_accepted_ones(name, bad, allowed):
    with pytest.raises(ValueError, match=rf"\['{bad}'\].*{allowed}"):
        make_optimizer(name, torch.zeros(1, 2, requires_grad=True), Quadratic(torch.ones(1)), lr=0.1, **{bad: 1})
