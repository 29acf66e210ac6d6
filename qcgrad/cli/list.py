"""`qcgrad list`: every name the library accepts, read from the registries themselves."""
from __future__ import annotations

import argparse
import json
from importlib.metadata import entry_points
from typing import Any

from .. import classical, optim, quantum


def installed_devices() -> list[str]:
    """PennyLane device names registered by installed packages (plugins included)."""
    return sorted({ep.name for ep in entry_points(group="pennylane.plugins")})


def catalogue() -> dict[str, list[str]]:
    """Section -> sorted names: architectures, activations, inits, ansätze, costs, backends, optimizers."""
    return {
        "architectures": sorted(classical.ARCHITECTURES),
        "activations": sorted(classical.ACTIVATIONS),
        "classical inits": sorted(classical.INITS),
        "ansatze": sorted(quantum.ANSATZE),
        "costs": sorted(quantum.COSTS),
        "circuit inits": sorted(quantum.INITS),
        "backends": sorted(set(quantum.DEVICES) | set(installed_devices())),
        "schedules": sorted(optim.SCHEDULES),
        "optimizers": sorted(optim.OPTIMIZERS),
    }


def optimizer_notes() -> dict[str, str]:
    """Optimizer -> one line on what it does and its defaults (e.g. QNG's block-diagonal metric).

    Examples
    --------
    >>> "block" in optimizer_notes()["qng"].lower()
    True
    """
    return dict(sorted(optim.OPTIMIZER_DESCRIPTIONS.items()))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="architectures, ansätze, costs, backends, optimizers")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    table: dict[str, Any] = catalogue()
    notes = optimizer_notes()
    if args.json:
        print(json.dumps({**table, "optimizer notes": notes}, indent=1))
        return 0
    width = max(map(len, table))
    for section, names in table.items():
        print(f"{section:>{width}}: {', '.join(names)}")
    for name, note in notes.items():
        print(f"{'':>{width}}  {name}: {note}")
    return 0
