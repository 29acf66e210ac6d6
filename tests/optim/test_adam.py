import pytest
import torch

from qcgrad.optim.adam import Adam

G1 = torch.tensor([[0.5, -2.0], [3.0, 1e-3]], dtype=torch.float64)
G2 = torch.tensor([[-1.0, 4.0], [0.2, 1e-3]], dtype=torch.float64)


def _steps(opt: torch.optim.Optimizer, p: torch.Tensor, grads: list[torch.Tensor]) -> list[torch.Tensor]:
    out = []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        out.append(p.detach().clone())
    return out


def test_two_steps_match_the_closed_form_with_bias_correction():
    # Kingma & Ba 2015, Algorithm 1 with β₁ = 0.9, β₂ = 0.999, ε = 1e-8, written out per entry
    lr, eps = 0.1, 1e-8
    p = torch.zeros(2, 2, dtype=torch.float64, requires_grad=True)
    first, second = _steps(Adam([p], lr=lr), p, [G1, G2])
    m1, v1 = 0.1 * G1, 0.001 * G1**2
    step1 = -lr * (m1 / 0.1) / ((v1 / 0.001).sqrt() + eps)  # = −lr·g/(|g| + ε): ±lr for |g| ≫ ε
    m2, v2 = 0.9 * m1 + 0.1 * G2, 0.999 * v1 + 0.001 * G2**2
    step2 = -lr * (m2 / (1 - 0.9**2)) / ((v2 / (1 - 0.999**2)).sqrt() + eps)
    assert torch.allclose(first, step1, rtol=1e-14, atol=0)
    assert torch.allclose(first, -lr * torch.sign(G1), rtol=1e-5, atol=0)  # |g| ≥ 1e-3: ε/|g| ≤ 1e-5
    assert torch.allclose(second, step1 + step2, rtol=1e-14, atol=0)


def test_trajectory_equals_torch_adam_without_skips():
    gen = torch.Generator().manual_seed(0)
    grads = [torch.randn(3, 4, generator=gen, dtype=torch.float64) for _ in range(6)]
    ours = torch.zeros(3, 4, dtype=torch.float64, requires_grad=True)
    ref = torch.zeros(3, 4, dtype=torch.float64, requires_grad=True)
    options = {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}
    mine = _steps(Adam([ours], **options), ours, grads)
    theirs = _steps(torch.optim.Adam([ref], **options), ref, grads)
    for a, b in zip(mine, theirs, strict=True):
        assert torch.allclose(a, b, rtol=1e-13, atol=1e-15)


def test_step_count_is_per_run():
    p = torch.zeros(2, 1, dtype=torch.float64, requires_grad=True)
    opt = Adam([p], lr=0.1)
    opt.state[p]["step"][1] = 5.0  # run 1 has taken five steps on zero gradients (m = v = 0)
    p.grad = torch.tensor([[1.0], [1.0]], dtype=torch.float64)
    opt.step()
    # run 0: t = 1, −lr·g/(|g|+ε); run 1: t = 6, m = 0.1g, v = 0.001g² corrected by 1 − β^6
    expected1 = -0.1 * (0.1 / (1 - 0.9**6)) / ((0.001 / (1 - 0.999**6)) ** 0.5 + 1e-8)
    assert p[0, 0].item() == pytest.approx(-0.1, rel=1e-7)
    assert p[1, 0].item() == pytest.approx(expected1, rel=1e-12)


@pytest.mark.parametrize("kwargs,match", [({"betas": (0.9, 1.0)}, "betas"), ({"eps": -1.0}, "eps"),
                                          ({"weight_decay": -0.1}, "weight_decay")])
def test_rejects_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Adam([torch.zeros(1, 1, requires_grad=True)], **kwargs)
