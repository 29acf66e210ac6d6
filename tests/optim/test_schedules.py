import math

import pytest
import torch

from qcgrad.optim.schedules import SCHEDULES, make_schedule, schedule_options


def _lrs(name: str, steps: int, lr: float = 2.0, **options) -> list[float]:
    """The rate each of steps 0..steps uses (the scheduler steps after every optimizer step)."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = make_schedule(name, opt, steps, **options)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


# lr(t) at the start, middle and end of a run of T steps, from the closed forms in the module docstring
@pytest.mark.parametrize("name,steps,options,expected", [
    ("constant", 10, {}, {0: 2.0, 5: 2.0, 10: 2.0}),
    ("step", 9, {}, {0: 2.0, 2: 2.0, 3: 0.2, 5: 0.2, 6: 0.02, 9: 0.002}),  # s = 9 // 3 = 3, γ = 0.1
    ("step", 10, {"step_size": 4, "gamma": 0.5}, {0: 2.0, 3: 2.0, 4: 1.0, 8: 0.5, 10: 0.5}),
    ("exponential", 10, {}, {0: 2.0, 5: 2.0 * 0.99**5, 10: 2.0 * 0.99**10}),
    ("cosine", 10, {}, {0: 2.0, 3: 1 + math.cos(0.3 * math.pi), 5: 1.0, 10: 0.0}),  # (1 + cos πt/T) lr₀/2
    ("cosine", 10, {"eta_min": 0.5}, {0: 2.0, 5: 1.25, 10: 0.5}),
    ("warmup", 40, {}, {0: 0.02, 2: 2.0 * (0.01 + 0.99 / 2), 4: 2.0, 40: 2.0}),  # W = 40 // 10 = 4
    ("warmup", 45, {}, {0: 0.02, 2: 2.0 * (0.01 + 0.99 / 2), 4: 2.0, 45: 2.0}),  # W = 45 // 10 = 4, not 4.5
    ("warmup", 10, {"warmup": 5, "start_factor": 0.5}, {0: 1.0, 1: 1.2, 5: 2.0, 10: 2.0}),
])
def test_schedule_values_at_start_middle_and_end(name, steps, options, expected):
    lrs = _lrs(name, steps, **options)
    for t, value in expected.items():
        assert lrs[t] == pytest.approx(value, rel=1e-12, abs=1e-15), (t, lrs)


def test_every_schedule_has_a_closed_form_test():
    names = {case[0] for case in test_schedule_values_at_start_middle_and_end.pytestmark[0].args[1]}
    assert names == set(SCHEDULES)


def test_unknown_schedule_names_allowed():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    with pytest.raises(ValueError, match="cosine"):
        make_schedule("linear_decay", opt, 10)


def test_unknown_schedule_option_names_the_accepted_ones():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    with pytest.raises(ValueError, match=r"\['T_max'\].*eta_min"):
        make_schedule("cosine", opt, 10, T_max=3)
    assert schedule_options("step") == ("step_size", "gamma")
