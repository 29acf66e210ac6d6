"""One name space for every model: architecture names and ansatz names resolve to builders."""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from . import classical, quantum
from .model import Model


def model_names() -> dict[str, list[str]]:
    """Buildable model names by family: ``{"classical": [...], "quantum": [...]}``."""
    return {"classical": sorted(classical.ARCHITECTURES), "quantum": sorted(quantum.ANSATZE)}


def build_model(name: str, **knobs: Any) -> Model:
    """Build a model from its registered name and its knobs.

    Classical architectures take their builder's knobs; an ansatz name builds
    ``qcgrad.quantum.circuit(name, **knobs)``. A knob the builder does not have is refused
    with the list of those it has.

    Examples
    --------
    >>> build_model("mlp", depth=3, width=8).describe()["architecture"]
    'mlp'
    >>> build_model("mlp", depth=3, foo=1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: 'mlp' has no knob 'foo'; its knobs: depth, width, activation, init, std, bias, in_dim, ..., dtype
    """
    if name in classical.ARCHITECTURES:
        return _checked(name, classical.ARCHITECTURES[name], knobs)(**knobs)
    if name in quantum.ANSATZE:
        return _checked(name, quantum.circuit, knobs, skip=("ansatz",))(name, **knobs)
    names = model_names()
    raise ValueError(f"unknown model {name!r}; architectures: {', '.join(names['classical'])}; "
                     f"ansätze: {', '.join(names['quantum'])}")


def _checked(name: str, build: Callable[..., Model], knobs: dict[str, Any], skip: tuple[str, ...] = ()) -> Callable:
    """``build`` after checking that every knob is one of its keyword parameters."""
    allowed = [p for p in inspect.signature(build).parameters if p not in skip]
    unknown = sorted(set(knobs) - set(allowed))
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        raise ValueError(f"{name!r} has no knob{plural} {', '.join(map(repr, unknown))}; "
                         f"its knobs: {', '.join(allowed)}")
    return build
