"""Knob checks: the message names the value and what is allowed."""
import pytest

from qcgrad.validation import check_choice, check_int, check_positive


def test_messages():
    with pytest.raises(ValueError, match=r"kind='x' is not allowed; use one of: fc, conv"):
        check_choice("kind", "x", ("fc", "conv"))
    with pytest.raises(ValueError, match=r"depth=0 is not allowed; it must be an int ≥ 1"):
        check_int(width=3, depth=0)
    with pytest.raises(ValueError, match=r"depth=True"):
        check_int(depth=True)
    with pytest.raises(ValueError, match=r"spectral_radius=0.0 .* > 0"):
        check_positive(spectral_radius=0.0)
    with pytest.raises(ValueError, match=r"std=inf"):
        check_positive(std=float("inf"))
    with pytest.raises(ValueError, match=r"n_samples=1 is not allowed; it must be an int ≥ 2"):
        check_int(2, n_samples=1)
    check_choice("kind", "fc", ("fc", "conv"))
    check_int(depth=2)
    check_positive(std=0.1)


def test_warnings_point_at_the_first_frame_outside_qcgrad():
    import warnings

    import torch

    from qcgrad.stats import summarize

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        summarize(torch.tensor([[0.0], [0.0]]), [0])  # warns from two calls deep inside qcgrad
    assert [w.filename for w in record] == [__file__]
