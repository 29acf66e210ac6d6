import pytest
import torch

from qcgrad.diagnostics import gershgorin, rnn_jacobian, transient_growth


def test_transient_growth_of_non_normal_weight_matches_direct_powers():
    w = torch.tensor([[0.9, 5.0], [0.0, 0.9]], dtype=torch.float64)
    g = transient_growth(w, t_max=80)
    direct = torch.stack([torch.linalg.matrix_norm(torch.linalg.matrix_power(w, t), ord=2) for t in range(81)])
    assert torch.allclose(g.norms, direct, rtol=1e-12)
    assert g.peak == pytest.approx(direct.max().item()) and g.peak_t == int(direct.argmax())
    assert g.spectral_radius == pytest.approx(0.9) and g.peak > 10 and g.norms[-1] < g.peak


def test_gershgorin_verdicts():
    assert gershgorin(torch.tensor([[0.5, 0.2], [0.1, 0.3]])).verdict == "stable"
    assert gershgorin(torch.tensor([[2.0, 0.2], [0.1, 0.3]])).verdict == "unstable"
    assert gershgorin(torch.tensor([[0.9, 0.5], [0.5, 0.1]])).verdict == "inconclusive"


def test_rnn_fixed_point_and_jacobian():
    w = torch.tensor([[0.5, -0.3], [0.2, 0.4]], dtype=torch.float64)
    b = torch.tensor([0.1, -0.2], dtype=torch.float64)
    h, jac = rnn_jacobian(w, b)
    assert torch.allclose(h, torch.tanh(w @ h + b), atol=1e-12)
    assert torch.allclose(jac, torch.autograd.functional.jacobian(lambda v: torch.tanh(w @ v + b), h))
    disc = gershgorin(jac)
    assert disc.verdict == "stable" and disc.spectral_radius < 1


@pytest.mark.parametrize("bad", [torch.zeros(2, 3), torch.zeros(3)])
def test_non_square_rejected(bad):
    with pytest.raises(ValueError, match="square"):
        gershgorin(bad)
    with pytest.raises(ValueError, match="square"):
        transient_growth(bad)
