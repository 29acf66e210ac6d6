"""Argument checks shared across qcgrad: errors name the bad value and what is allowed."""
from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Iterable
from types import FrameType

from .model import Model

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


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


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """Warn with the location of the user's call: the first frame outside the qcgrad package.

    A fixed ``stacklevel`` points at the right line only for one call depth; qcgrad's
    estimators are called directly, from ``scan``, from sweeps and from studies alike.
    """
    frame: FrameType | None = sys._getframe(0)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def check_model(model: object) -> None:
    """Raise TypeError unless ``model`` is a qcgrad Model (a name or None is a common slip)."""
    if not isinstance(model, Model):
        raise TypeError(f"model={model!r} is not a qcgrad Model; build one first, e.g. "
                        "qcgrad.classical.mlp(depth=3, width=8) or qcgrad.quantum.circuit(...)")
