"""Names with knobs in one string, ``"name:key=value,key=value"``, as the CLI and configs write them.

Costs (``"tfim:h=0.5"``) and initializations (``"small_angle:sigma=0.05"``) are chosen this
way, so one string records the choice in results and travels through TOML and the CLI.
"""
from __future__ import annotations

import ast
from typing import Any


def parse_spec(spec: str, what: str, allowed: dict[str, tuple[str, ...]]) -> tuple[str, dict[str, Any]]:
    """Split ``"name:k=v,k2=v2"`` into ``(name, {k: v, k2: v2})`` and check both against ``allowed``.

    Values are Python literals (``0.5``, ``3``), otherwise kept as strings.

    Parameters
    ----------
    spec : str
    what : str
        What the string names (``"cost"``, ``"init"``), for error messages.
    allowed : dict[str, tuple[str, ...]]
        Known names -> the knobs each accepts.

    Returns
    -------
    (str, dict)

    Examples
    --------
    >>> parse_spec("tfim:h=0.5", "cost", {"tfim": ("h",)})
    ('tfim', {'h': 0.5})
    >>> parse_spec("zz", "cost", {"zz": ()})
    ('zz', {})
    """
    if not isinstance(spec, str):
        raise TypeError(f"{what}={spec!r} must be a string 'name' or 'name:key=value,...' with name in "
                        f"{sorted(allowed)}")
    name, _, rest = spec.partition(":")
    if name not in allowed:
        raise ValueError(f"{what}={spec!r} names {name!r}, which is not known; use one of {sorted(allowed)}")
    options: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, sep, raw = item.partition("=")
        if not sep or key not in allowed[name]:
            raise ValueError(f"{what}={spec!r}: {item!r} is not key=value with key in {list(allowed[name])} "
                             f"(the knobs of {name!r})")
        try:
            options[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            options[key] = raw
    return name, options


def format_spec(name: str, options: dict[str, Any]) -> str:
    """The inverse of :func:`parse_spec`: ``format_spec("tfim", {"h": 0.5}) == "tfim:h=0.5"``."""
    return name if not options else name + ":" + ",".join(f"{k}={v!r}" for k, v in options.items())


__all__ = ["parse_spec", "format_spec"]
