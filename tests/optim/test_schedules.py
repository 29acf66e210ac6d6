import pytest
import torch

from qcgrad.optim.schedules import SCHEDULES, make_schedule


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_every_schedule_builds_and_steps(name):
    p = torch.zeros(2, 3, requires_grad=True)
    opt = torch.optim.SGD([p], lr=1.0)
    sched = make_schedule(name, opt, steps=10)
    for _ in range(10):
        opt.step()
        sched.step()
    assert 0 <= opt.param_groups[0]["lr"] <= 1.0


def test_cosine_reaches_zero_and_step_decays_by_gamma():
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=1.0)
    sched = make_schedule("step", opt, steps=9)  # step_size = 3, gamma = 0.1
    lrs = []
    for _ in range(9):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs == pytest.approx([1, 1, 1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01])


def test_unknown_schedule_names_allowed():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    with pytest.raises(ValueError, match="cosine"):
        make_schedule("linear_decay", opt, 10)
