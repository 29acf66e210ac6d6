"""One name space for every model: architecture names and ansatz names resolve to builders."""
from __future__ import annotations

from typing import Any

from . import classical, quantum
from .model import Model


def model_names() -> dict[str, list[str]]:
    """Buildable model names by family: ``{"classical": [...], "quantum": [...]}``."""
    return {"classical": sorted(classical.ARCHITECTURES), "quantum": sorted(quantum.ANSATZE)}


def build_model(name: str, **knobs: Any) -> Model:
    """Build a model from its registered name and its knobs.

    Classical architectures take their builder's knobs; an ansatz name builds
    ``qcgrad.quantum.circuit(name, **knobs)``.

    Examples
    --------
    >>> build_model("mlp", depth=3, width=8).describe()["architecture"]
    'mlp'
    """
    if name in classical.ARCHITECTURES:
        return classical.ARCHITECTURES[name](**knobs)
    if name in quantum.ANSATZE:
        return quantum.circuit(name, **knobs)
    names = model_names()
    raise ValueError(f"unknown model {name!r}; architectures: {', '.join(names['classical'])}; "
                     f"ansätze: {', '.join(names['quantum'])}")
