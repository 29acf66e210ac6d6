import torch

from qcgrad.optim.transforms import clip_by_global_norm


def _adam_step(grad: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    p = torch.zeros_like(grad, requires_grad=True)
    opt = torch.optim.Adam([p], lr=1e-3, eps=eps)
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
