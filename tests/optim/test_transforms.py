import pytest
import torch

from qcgrad.optim.transforms import LossScaler, clip_by_global_norm, clip_by_value, make_loss_scaler


def test_clip_by_global_norm_is_per_run_and_keeps_direction():
    g = torch.tensor([[30.0, 40.0, 0.0], [0.03, 0.04, 0.0]], dtype=torch.float64)
    out = clip_by_global_norm(g, 1.0)
    assert torch.allclose(torch.linalg.vector_norm(out, dim=1), torch.tensor([1.0, 0.05], dtype=torch.float64))
    assert torch.equal(out[1], g[1])  # the small run is untouched by the large one
    # direction exactly kept: out is a positive multiple of g
    assert torch.allclose(out[0] / torch.linalg.vector_norm(out[0]), g[0] / torch.linalg.vector_norm(g[0]),
                          rtol=0, atol=1e-15)


def test_clip_by_global_norm_zero_row_stays_zero():
    assert torch.equal(clip_by_global_norm(torch.zeros(2, 3), 1.0), torch.zeros(2, 3))


def test_clip_by_value():
    assert torch.equal(clip_by_value(torch.tensor([[-3.0, 0.2, 3.0]]), 0.5), torch.tensor([[-0.5, 0.2, 0.5]]))


@pytest.mark.parametrize("fn", [clip_by_global_norm, clip_by_value])
def test_clipping_rejects_non_positive_bound(fn):
    with pytest.raises(ValueError, match="positive"):
        fn(torch.ones(1, 2), 0.0)


def test_dynamic_scaler_halves_on_overflow_and_grows_after_interval():
    s = LossScaler(2, init_scale=4.0, dynamic=True, growth_interval=2)
    s.update(torch.tensor([True, False]))
    assert s.scale.tolist() == [4.0, 2.0]
    s.update(torch.tensor([True, True]))
    assert s.scale.tolist() == [8.0, 2.0]


def test_static_scaler_keeps_scale_and_unscales():
    s = make_loss_scaler(128.0, 2)
    loss = torch.tensor([1.0, 2.0])
    assert s.scale_loss(loss).item() == 384.0
    assert torch.equal(s.unscale(torch.full((2, 1), 128.0), torch.float32), torch.ones(2, 1))
    s.update(torch.tensor([False, False]))
    assert s.scale.tolist() == [128.0, 128.0]


@pytest.mark.parametrize("bad,err", [("auto", ValueError), (True, TypeError), (-1.0, ValueError)])
def test_make_loss_scaler_rejects_bad_input(bad, err):
    with pytest.raises(err, match="loss_scale"):
        make_loss_scaler(bad, 2)


def test_make_loss_scaler_none():
    assert make_loss_scaler(None, 3) is None
