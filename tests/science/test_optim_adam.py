import torch

import qcgrad as qg
from qcgrad.optim import OPTIMIZERS, train
from qcgrad.optim.transforms import clip_by_global_norm


def _adam_step(grad: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    p = torch.zeros_like(grad, requires_grad=True)
    opt = OPTIMIZERS["adam"](p, None, lr=1e-3, eps=eps)  # qcgrad's Adam, as train uses it
    p.grad = grad.clone()
    opt.step()
    return p.detach()


def test_adam_update_is_scale_invariant_until_eps():
    g = torch.tensor([[0.5, -2.0, 1.0]], dtype=torch.float64)
    ref = _adam_step(g)
    for c in (1e-3, 1e-1, 1e1, 1e3):
        # first step is −lr·cg/(|cg| + ε): relative change ε/|cg| ≤ 1e-8/(1e-3·0.5) = 2e-5
        assert torch.allclose(_adam_step(c * g), ref, rtol=3e-5, atol=0)
    # where ε matters: at |cg| = ε the step halves, at |cg| = ε/100 it is ~1 % of the step
    tiny = _adam_step(1e-8 / 0.5 * g)
    assert torch.allclose(tiny[0, 0], 0.5 * ref[0, 0], rtol=1e-6)
    assert abs(_adam_step(1e-10 / 0.5 * g)[0, 0] / ref[0, 0]) < 0.011


def test_clipping_keeps_direction_exactly():
    g = torch.tensor([[3.0, -4.0, 12.0]], dtype=torch.float64)
    out = clip_by_global_norm(g, 1.0)
    assert torch.allclose(torch.linalg.vector_norm(out), torch.tensor(1.0, dtype=torch.float64))
    cos = (out * g).sum() / (torch.linalg.vector_norm(out) * torch.linalg.vector_norm(g))
    assert abs(cos.item() - 1.0) < 1e-15


def test_adam_beats_sgd_on_a_deep_sigmoid_mlp_with_vanishing_gradients():
    # 20 sigmoid layers of width 8, weights N(0, 1): each layer's Jacobian gain is about
    # σ'·‖W‖ ≈ ¼·√8 ≈ 0.7, so first-layer gradients are ~1e-7 of last-layer ones at init
    # (measured median |g|: 7e-8 vs 0.76).
    # Teacher target: the first input coordinate. The last layers alone can only predict the
    # targets' mean (the "floor" loss = their variance); going lower needs the early layers.
    net = qg.classical.mlp(depth=20, width=8, activation="sigmoid", init="normal", std=1.0, in_dim=4,
                           batch_size=16, seed=0)
    net.targets = net.inputs[:, :1].clone()
    floor = ((net.targets - net.targets.mean()) ** 2).mean().item()
    # Learning rates chosen once from a small grid at this step budget (median final loss):
    # SGD {0.1, 0.3, 1}: 0.1 and 0.3 stay at the floor, 1 diverges -> 0.3, the largest stable
    # rate; Adam {0.01, 0.03, 0.1}: 0.285, floor, floor -> 0.01.
    sgd = train(net, "sgd", steps=200, n_runs=16, seed=0, lr=0.3).loss[-1]
    adam = train(net, "adam", steps=200, n_runs=16, seed=0, lr=0.01).loss[-1]
    # SGD's tiny early-layer steps leave it at the floor; Adam's per-entry normalization
    # moves every layer at the same rate. Measured medians: SGD = floor = 0.736, Adam 0.285;
    # the margin 0.2 is less than half that gap.
    assert sgd.median().item() > 0.99 * floor
    assert adam.median().item() < sgd.median().item() - 0.2
