"""Classical deep networks as qcgrad Models (batched over init samples with torch.func)."""
from typing import Callable

#: Architecture name -> builder; what `qcgrad list` shows.
ARCHITECTURES: dict[str, Callable] = {}

__all__ = ["ARCHITECTURES"]
