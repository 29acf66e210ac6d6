"""Argument checks shared across qcgrad: errors name the bad value and what is allowed."""
from __future__ import annotations

import math
from typing import Iterable


def check_choice(knob: str, value: object, allowed: Iterable[str]) -> None:
    """Raise ValueError naming ``value`` and the allowed names unless ``value`` is one of them."""
    allowed = tuple(allowed)
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{knob}={value!r} is not allowed; use one of: {', '.join(allowed)}")


def check_int(minimum: int = 1, /, **knobs: object) -> None:
    """Raise ValueError unless every knob is an int ≥ ``minimum`` (bools are not), naming the bad one.

    Examples
    --------
    >>> check_int(2, n_samples=1)
    Traceback (most recent call last):
    ...
    ValueError: n_samples=1 is not allowed; it must be an int ≥ 2
    """
    for name, value in knobs.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name}={value!r} is not allowed; it must be an int ≥ {minimum}")


def check_positive(**knobs: object) -> None:
    """Raise ValueError unless every knob is a finite number > 0, naming the bad one."""
    for name, value in knobs.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
            raise ValueError(f"{name}={value!r} is not allowed; it must be a finite number > 0")
