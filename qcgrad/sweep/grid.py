"""The points of a study: every combination of the grid, each with its key and derived seed."""
from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from typing import Any

from ..gradients import ParamSpec, resolve_params
from ..model import Model
from ..registry import build_model
from ..seeding import derive_seed
from .config import NAME_KEY, SweepConfig, check_knob_names, params_spec


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
    n_samples, params, chunk_size, method, n_paths, theory
        As in the study.
    """

    family: str
    name: str
    knobs: dict[str, Any]
    scanned: tuple[str, ...]
    key: str
    seed: int
    n_samples: int
    params: str | int | tuple[int | str, ...]
    chunk_size: int | None
    method: str = "sample"
    n_paths: int | None = None
    theory: bool = False

    @property
    def point_id(self) -> str:
        """Identity in a store: the key plus everything else that changes the numbers.

        The estimator settings enter only when they differ from sampling, so points of
        stores written before they existed keep their ids.
        """
        identity = [self.key, self.seed, self.n_samples, self.params, self.chunk_size]
        if (self.method, self.n_paths) != ("sample", None):
            identity += [self.method, self.n_paths]
        text = json.dumps(identity)
        return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()

    @property
    def label(self) -> str:
        """The point in a few words: its model and scanned knobs (``"mlp depth=3, activation=tanh"``)."""
        values = {**self.knobs, NAME_KEY[self.family]: self.name}
        return f"{self.name} " + ", ".join(f"{k}={values[k]}" for k in self.scanned)

    @property
    def spec(self) -> ParamSpec:
        """The params spec for :func:`qcgrad.resolve_params`."""
        return params_spec(self.params)

    def build(self) -> Model:
        """The model of this point."""
        return build_model(self.name, **self.knobs)


def expand(config: SweepConfig) -> list[Point]:
    """All points of the grid, each checked by building its model once.

    Building a model is cheap: no size-2^n object is made before the model is used (a
    30-qubit circuit is built in kilobytes), so a study of large circuits is checked
    without allocating them.

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
    params = tuple(config.params) if isinstance(config.params, list) else config.params  # hashable
    points = []
    for combo in itertools.product(*config.grid.values()):
        knobs = {**config.fixed, **dict(zip(scanned, combo, strict=True))}
        name = knobs.pop(name_key)
        key = json.dumps({"family": config.family, name_key: name, **knobs}, sort_keys=True)
        where = f"grid point {key}"
        check_knob_names(config.family, name, knobs, where)
        point = Point(config.family, name, knobs, scanned, key, derive_seed(config.seed, key),
                      config.n_samples, params, config.chunk_size, config.method, config.n_paths, config.theory)
        try:
            resolve_params(point.build(), point.spec)
        except (ValueError, TypeError, ImportError) as err:  # ImportError: a device not installed
            raise ValueError(f"{where}: {err}") from None
        points.append(point)
    return points
