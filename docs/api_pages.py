"""The API reference page (``docs/api.rst``, written at build time), generated from the public names:
``qcgrad.__all__`` and each subpackage's.

One section per package, listing exactly what its ``__all__`` exports, so the reference shows the
public API and nothing a user should not import: functions, classes and modules in an autosummary
table (one page each), registries and constants (``qcgrad.optim.OPTIMIZERS``, ...) as ``py:data``
entries with their ``#:`` comment and their current keys, so ``:data:`` references resolve.
"""
from __future__ import annotations

import importlib
import inspect
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from sphinx.errors import PycodeError
from sphinx.pycode import ModuleAnalyzer

#: Packages documented, in page order, with their section titles.
PACKAGES = {
    "qcgrad": "Core: models, estimators, scans, fits, claims",
    "qcgrad.classical": "Deep networks",
    "qcgrad.quantum": "Circuits",
    "qcgrad.optim": "Training and optimizers",
    "qcgrad.diagnostics": "Diagnostics",
    "qcgrad.sweep": "Sweeps",
    "qcgrad.theory": "Theory",
    "qcgrad.plot": "Figures",
}


def _public_names(module: ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:  # a plain module: its public functions and classes
        names = [n for n, v in vars(module).items() if not n.startswith("_")
                 and (inspect.isfunction(v) or inspect.isclass(v)) and v.__module__ == module.__name__]
    return list(names)


def _split(package: str) -> tuple[list[str], list[str]]:
    """The package's public names: (functions, classes and modules; data such as registries).

    Subpackages that have a section of their own are left out of their parent's.
    """
    module = importlib.import_module(package)
    objects, data = [], []
    for name in _public_names(module):
        value = getattr(module, name)
        if inspect.ismodule(value):
            if value.__name__ not in PACKAGES:
                objects.append(name)
        elif inspect.isclass(value) or callable(value):
            objects.append(name)
        else:
            data.append(name)
    return objects, data


def _comment(package: str, name: str, value: Any) -> list[str]:
    """The ``#:`` comment above ``name`` where it is defined: the package or one of its modules."""
    modules = [package] + sorted(m for m in sys.modules if m.startswith(package + "."))
    for modname in modules:
        module = sys.modules.get(modname)
        if module is None or vars(module).get(name) is not value:
            continue
        try:
            docs = ModuleAnalyzer.for_module(modname).find_attr_docs()
        except PycodeError:
            continue
        if ("", name) in docs:
            return [line for line in docs[("", name)] if line.strip()]
    return []


def _escape(text: str) -> str:
    """Plain text as reST: no character of it starts markup."""
    return re.sub(r"([_*`|\\<>\[\]])", r"\\\1", text)


def _data_entry(package: str, name: str) -> list[str]:
    """A ``py:data`` directive for a registry or constant: its comment and its current content."""
    value = getattr(importlib.import_module(package), name)
    body = _comment(package, name, value)
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        items = [f"- ``{key}``: {_escape(text)}" for key, text in value.items()]
    elif isinstance(value, (dict, tuple, list, frozenset, set)):
        keys = ", ".join(f"``{key}``" for key in value)
        items = [f"{'Names' if isinstance(value, dict) else 'Values'}: {keys}."]
    else:
        items = [f"Value: ``{value!r}``."]
    body += [""] * bool(body) + items
    return [f".. py:data:: {name}", f"   :type: {type(value).__name__}", "",
            *[f"   {line}" if line else "" for line in body], ""]


def filename_map() -> dict[str, str]:
    """``autosummary_filename_map``: a class whose page name differs from a function's only by case
    (``gershgorin`` / ``Gershgorin``, ``dla`` / ``DLA``) gets ``<name>-class``, so the two pages stay
    apart on case-insensitive file systems (macOS, Windows)."""
    mapping: dict[str, str] = {}
    for package in PACKAGES:
        try:
            objects, _ = _split(package)
        except ImportError:
            continue
        module = importlib.import_module(package)
        lowered = [name.lower() for name in objects]
        for name in objects:
            if lowered.count(name.lower()) > 1 and inspect.isclass(getattr(module, name)):
                mapping[f"{package}.{name}"] = f"{package}.{name}-class"
    return mapping


HEADER = """API reference
=============

Everything below is reachable from ``import qcgrad as qg``; each section lists exactly what its
package exports (its ``__all__``). Registries such as :data:`qcgrad.quantum.ANSATZE` or
:data:`qcgrad.optim.OPTIMIZERS` are plain dicts from name to builder: ``qcgrad list`` prints them.

"""


def write_api_page(target: Path) -> None:
    """Write ``api.rst``: the header and, per package, its summary, autosummary table and data."""
    lines: list[str] = [HEADER]
    for package, title in PACKAGES.items():
        try:
            objects, data = _split(package)
        except ImportError:
            continue
        summary = (inspect.getdoc(importlib.import_module(package)) or "").split("\n\n")[0]
        lines += [title, "-" * len(title), "", f".. module:: {package}", "", summary, "",
                  ".. autosummary::", "   :toctree: generated", ""]
        lines += [f"   {name}" for name in sorted(objects, key=str.lower)] + [""]
        for name in sorted(data, key=str.lower):
            lines += _data_entry(package, name)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines) + "\n")
