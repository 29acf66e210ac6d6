"""Parameterized quantum circuits as qcgrad Models, with a batched torch engine."""
from typing import Callable

#: Ansatz name -> PennyLane template; cost name -> observable builder; what `qcgrad list` shows.
ANSATZE: dict[str, Callable] = {}
COSTS: dict[str, Callable] = {}

__all__ = ["ANSATZE", "COSTS"]
