"""Knob checks: the message names the value and what is allowed."""
import pytest

from qcgrad.classical.validation import check_choice, check_positive, check_positive_int


def test_messages():
    with pytest.raises(ValueError, match=r"kind='x' is not allowed; use one of: fc, conv"):
        check_choice("kind", "x", ("fc", "conv"))
    with pytest.raises(ValueError, match=r"depth=0 is not allowed; it must be an int ≥ 1"):
        check_positive_int(width=3, depth=0)
    with pytest.raises(ValueError, match=r"depth=True"):
        check_positive_int(depth=True)
    with pytest.raises(ValueError, match=r"spectral_radius=0.0 .* > 0"):
        check_positive(spectral_radius=0.0)
    with pytest.raises(ValueError, match=r"std=inf"):
        check_positive(std=float("inf"))
    check_choice("kind", "fc", ("fc", "conv"))
    check_positive_int(depth=2)
    check_positive(std=0.1)
