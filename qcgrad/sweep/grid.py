"""The points of a study: every combination of the grid, each with its key and derived seed."""
from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from typing import Any

from ..gradients import resolve_params
from ..model import Model
from ..registry import build_model
from ..seeding import derive_seed
from .config import NAME_KEY, SweepConfig, check_knob_names


@dataclass(frozen=True)
class Point:
    """One model of the grid and how to measure it; small and picklable, sent to workers.

    Attributes
    ----------
    family : str
    name : str
        Architecture or ansatz.
    knobs : dict
        Every knob the builder gets (fixed and scanned), without the name.
    scanned : tuple[str, ...]
        Which knobs (and maybe the name key) vary over the grid.
    key : str
        Canonical text of (family, name, knobs): what the seed is derived from.
    seed : int
        ``derive_seed(study seed, key)``: independent of order, executor and chunking.
    n_samples, params, chunk_size
        As in the study.
    """

    family: str
    name: str
    knobs: dict[str, Any]
    scanned: tuple[str, ...]
    key: str
    seed: int
    n_samples: int
    params: str | int
    chunk_size: int | None

    @property
    def point_id(self) -> str:
        """Identity in a store: the key plus everything else that changes the numbers."""
        text = json.dumps([self.key, self.seed, self.n_samples, self.params, self.chunk_size])
        return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()

    def build(self) -> Model:
        """The model of this point."""
        return build_model(self.name, **self.knobs)


def expand(config: SweepConfig) -> list[Point]:
    """All points of the grid, each checked by building its model once.

    Raises
    ------
    ValueError
        A point's knobs do not fit its builder, or the builder rejects a value; the message
        names the point.

    Examples
    --------
    >>> from qcgrad.sweep.config import parse_config
    >>> cfg = parse_config({"study": {"n_samples": 8}, "model": {"family": "classical",
    ...     "architecture": "tower"}, "grid": {"depth": [1, 2]}})
    >>> [p.knobs["depth"] for p in expand(cfg)]
    [1, 2]
    """
    name_key = NAME_KEY[config.family]
    scanned = tuple(config.grid)
    points = []
    for combo in itertools.product(*config.grid.values()):
        knobs = {**config.fixed, **dict(zip(scanned, combo))}
        name = knobs.pop(name_key)
        key = json.dumps({"family": config.family, name_key: name, **knobs}, sort_keys=True)
        where = f"grid point {key}"
        check_knob_names(config.family, name, knobs, where)
        point = Point(config.family, name, knobs, scanned, key, derive_seed(config.seed, key),
                      config.n_samples, config.params, config.chunk_size)
        try:
            resolve_params(point.build(), config.params)
        except (ValueError, TypeError, ImportError) as err:  # ImportError: a device not installed
            raise ValueError(f"{where}: {err}") from None
        points.append(point)
    return points
