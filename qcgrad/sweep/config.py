"""A study as a TOML file, read and validated in full before any point runs.

Schema (every key other than those marked *required* is optional)::

    [study]
    name = "mlp-depth"        # str; default: the file's stem
    seed = 0                  # int >= 0; each point's seed is derived from (seed, point key)
    n_samples = 200           # int >= 2, *required*
    params = "first"          # "first" | "all" | int index | group such as "layer:0" | a slice "0:8"
                              # | a list of ints and group names: [0, 1, 5], ["layer:0", "layer:3"]
    chunk_size = 64           # int >= 1: samples per gradient call (memory, sample progress)
    method = "sample"         # "sample" | "paths" | "auto" (Pauli-path propagation where it applies)
    n_paths = 10000           # int >= 1: paths for path Monte Carlo (method "paths"/"auto")
    theory = false            # true: each record carries qcgrad.theory.predict's value (or why not)

    [model]                   # *required*: the family and its fixed knobs
    family = "classical"      # "classical" | "quantum", *required*
    architecture = "mlp"      # classical: a name in qcgrad.classical.ARCHITECTURES
    # ansatz = "random_pauli" # quantum: a name in qcgrad.quantum.ANSATZE
    width = 16                # any knob the builder takes (for circuits also device, init, cost)

    [grid]                    # *required*, at least one knob; each a non-empty array
    depth = [2, 4, 8]
    activation = ["tanh", "relu"]

    [output]
    store = "results.sqlite"  # relative to the config file; `--store` overrides it

The model's name (``architecture``/``ansatz``) may sit in ``[model]`` or vary in ``[grid]``.
A grid has at most :data:`MAX_POINTS` points: every point is checked by building its model
before any runs, so larger studies are split into several configs (``--extend`` adds them to
one store).
"""
from __future__ import annotations

import hashlib
import inspect
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from .. import classical, quantum
from ..gradients import ParamSpec, parse_params
from ..stats import METHODS
from ..validation import check_int

#: Top-level tables and, for the fixed-shape ones, their keys.
SECTIONS = ("study", "model", "grid", "output")
STUDY_KEYS = ("name", "seed", "n_samples", "params", "chunk_size", "method", "n_paths", "theory")
OUTPUT_KEYS = ("store",)
FAMILIES = ("classical", "quantum")
#: The knob that names the model, per family.
NAME_KEY = {"classical": "architecture", "quantum": "ansatz"}
#: Largest grid a config may have (points are validated one by one before any runs).
MAX_POINTS = 20_000
#: Study keys left out of :meth:`SweepConfig.to_dict` at their defaults, so that the
#: fingerprints of configs written before these keys existed do not change.
OPTIONAL_STUDY = {"method": "sample", "n_paths": None, "theory": False}


@dataclass(frozen=True)
class SweepConfig:
    """A validated study: what to build, which grid to scan, how many samples, where to write.

    Build one with :func:`load_config`; :func:`qcgrad.sweep.expand` turns it into points.
    """

    name: str
    family: str
    n_samples: int
    fixed: dict[str, Any]
    grid: dict[str, list[Any]]
    seed: int = 0
    params: str | int | list[int | str] = "first"
    chunk_size: int | None = None
    method: str = "sample"
    n_paths: int | None = None
    theory: bool = False
    store: Path | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The study as plain data, without the store location (it does not change results)."""
        study = {"name": self.name, "seed": self.seed, "n_samples": self.n_samples,
                 "params": self.params, "chunk_size": self.chunk_size}
        study |= {k: getattr(self, k) for k, default in OPTIONAL_STUDY.items() if getattr(self, k) != default}
        return {"study": study, "model": {"family": self.family, **self.fixed}, "grid": self.grid}

    @property
    def fingerprint(self) -> str:
        """Hash of :meth:`to_dict`: a store remembers the fingerprints of the configs it holds."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _fail(key: str, value: Any, allowed: str) -> ValueError:
    return ValueError(f"{key}={value!r} is not allowed; {allowed}")


def _check_table(key: str, value: Any, allowed_keys: tuple[str, ...] | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(key, value, "it must be a table ([" + key + "])")
    if allowed_keys is not None:
        for k in value:
            if k not in allowed_keys:
                raise ValueError(f"unknown key {key}.{k}; allowed keys in [{key}]: {', '.join(allowed_keys)}")
    return value


def _check_int(key: str, value: Any, minimum: int) -> int:
    check_int(minimum, **{key: value})  # keys such as "study.n_samples" name the config entry
    return value


def _registries(family: str) -> dict[str, Mapping[str, Any]]:
    """Knobs whose values are registry names, read now so that late registrations count."""
    if family == "classical":
        return {"architecture": classical.ARCHITECTURES, "activation": classical.ACTIVATIONS,
                "init": classical.INITS}
    named: dict[str, Mapping[str, Any]] = {"ansatz": quantum.ANSATZE, "cost": quantum.COSTS}
    if hasattr(quantum, "INITS"):
        named["init"] = quantum.INITS
    return named


def _check_value(family: str, key: str, knob: str, value: Any) -> None:
    """One knob value: a scalar, and a registered name where the knob takes one.

    Values only the builder can judge (sizes, an installed ``device``) are checked by building
    every point (:func:`qcgrad.sweep.expand`).
    """
    if not isinstance(value, (bool, int, float, str)):
        raise _fail(key, value, "knob values must be a number, a string or a boolean")
    if isinstance(value, float) and not math.isfinite(value):
        raise _fail(key, value, "it must be finite")
    registry = _registries(family).get(knob)
    # Costs and inits may carry their own knobs: "tfim:h=0.5", "small_angle:sigma=0.05".
    name = value.partition(":")[0] if knob in ("cost", "init") and isinstance(value, str) else value
    if registry is not None and name not in registry:
        raise _fail(key, value, f"use one of: {', '.join(sorted(registry)) or '(none registered yet)'}")


def params_spec(params: str | int | Sequence[int | str]) -> ParamSpec:
    """The spec :func:`qcgrad.resolve_params` takes for a config's ``params`` (text is parsed).

    Examples
    --------
    >>> params_spec("0:4"), params_spec("layer:0"), params_spec([0, "layer:1"])
    (slice(0, 4, None), 'layer:0', [0, 'layer:1'])
    """
    return parse_params(params) if isinstance(params, str) else params


def _check_params(params: Any) -> str | int | list[int | str]:
    allowed = ("use 'first', 'all', an int index, a group name, a slice such as '0:8', or a non-empty "
               "array of int indices and group names")
    items = params if isinstance(params, list) else [params]
    if not items or any(isinstance(x, bool) or not isinstance(x, (str, int)) for x in items):
        raise _fail("study.params", params, allowed)
    if isinstance(params, str):
        try:
            parse_params(params)
        except ValueError as err:
            raise _fail("study.params", params, f"{allowed} ({err})") from None
    return params


def _check_grid_size(grid: dict[str, list[Any]]) -> None:
    n = math.prod(len(values) for values in grid.values())
    if n > MAX_POINTS:
        sizes = " × ".join(f"{len(v)} {k}" for k, v in grid.items())
        raise ValueError(f"the grid has {n:,} points ({sizes}); a config may have at most {MAX_POINTS:,}: "
                         "split the study into several configs and add them to one store with --extend")


def builder(family: str, name: str) -> Callable[..., Any]:
    """The callable that builds ``name`` (for checking knob names against its signature)."""
    return classical.ARCHITECTURES[name] if family == "classical" else quantum.circuit


def check_knob_names(family: str, name: str, knobs: dict[str, Any], where: str) -> None:
    """Every knob is a parameter of the builder, and every required parameter is given."""
    build = builder(family, name)
    signature = inspect.signature(build)
    args = (name,) if family == "quantum" else ()
    try:
        signature.bind(*args, **knobs)
    except TypeError as err:
        takes = [p for p in signature.parameters if p != "ansatz"]
        raise ValueError(f"{where}: {name!r} cannot be built from knobs {sorted(knobs)} ({err}); "
                         f"it takes: {', '.join(takes)}") from None


def _check_grid(family: str, grid: dict[str, Any], fixed: dict[str, Any]) -> dict[str, list[Any]]:
    if not grid:
        raise ValueError("grid is empty; [grid] needs at least one knob with a list of values, "
                         "e.g. depth = [2, 4, 8]")
    for knob, values in grid.items():
        key = f"grid.{knob}"
        if knob == "family":
            raise ValueError("grid.family is not allowed; a study scans one family (model.family)")
        if knob in fixed:
            raise ValueError(f"{knob} is both fixed (model.{knob}) and scanned ({key}); keep one")
        if not isinstance(values, list) or not values:
            raise _fail(key, values, "it must be a non-empty array of values, e.g. [2, 4, 8]")
        for i, value in enumerate(values):
            _check_value(family, f"{key}[{i}]", knob, value)
        if len({json.dumps(v) for v in values}) != len(values):
            raise _fail(key, values, "its values must be distinct")
    return grid


def parse_config(data: Mapping[str, Any], default_name: str = "study", base: Path | None = None) -> SweepConfig:
    """Validate a parsed TOML document and return the :class:`SweepConfig`.

    Every error is a ValueError naming the key, the bad value and what is allowed.

    Parameters
    ----------
    data : mapping
        The TOML document as a dict (``tomllib.loads``).
    default_name : str
        Study name when ``study.name`` is absent.
    base : Path, optional
        Directory that a relative ``output.store`` is taken relative to.

    Returns
    -------
    SweepConfig

    Examples
    --------
    >>> cfg = parse_config({"study": {"n_samples": 8}, "model": {"family": "classical",
    ...     "architecture": "tower"}, "grid": {"depth": [1, 2]}})
    >>> cfg.family, cfg.grid
    ('classical', {'depth': [1, 2]})
    """
    data = _check_table("config", dict(data), SECTIONS)
    for section in ("study", "model", "grid"):
        if section not in data:
            raise ValueError(f"[{section}] is missing; a config needs the tables study, model and grid")
    study = _check_table("study", data["study"], STUDY_KEYS)
    model = dict(_check_table("model", data["model"], None))
    grid = dict(_check_table("grid", data["grid"], None))
    output = _check_table("output", data.get("output", {}), OUTPUT_KEYS)

    name = study.get("name", default_name)
    if not isinstance(name, str) or not name:
        raise _fail("study.name", name, "it must be a non-empty string")
    if "n_samples" not in study:
        raise ValueError("study.n_samples is missing; it must be an int ≥ 2")
    n_samples = _check_int("study.n_samples", study["n_samples"], 2)
    seed = _check_int("study.seed", study.get("seed", 0), 0)
    params = _check_params(study.get("params", "first"))
    chunk_size = study.get("chunk_size")
    if chunk_size is not None:
        _check_int("study.chunk_size", chunk_size, 1)
    method = study.get("method", "sample")
    if method not in METHODS:
        raise _fail("study.method", method, f"use one of: {', '.join(METHODS)}")
    n_paths = study.get("n_paths")
    if n_paths is not None:
        _check_int("study.n_paths", n_paths, 1)
    theory = study.get("theory", False)
    if not isinstance(theory, bool):
        raise _fail("study.theory", theory, "use true or false")

    family = model.pop("family", None)
    if family not in FAMILIES:
        raise _fail("model.family", family, f"use one of: {', '.join(FAMILIES)}")
    for knob, value in model.items():
        _check_value(family, f"model.{knob}", knob, value)
    grid = _check_grid(family, grid, model)
    _check_grid_size(grid)
    name_key = NAME_KEY[family]
    other = NAME_KEY["quantum" if family == "classical" else "classical"]
    if other in model or other in grid:
        raise ValueError(f"{other} does not belong to family {family!r}; name the model with {name_key}")
    if name_key not in model and name_key not in grid:
        raise ValueError(f"model.{name_key} is missing; family {family!r} needs it (in [model] or [grid])")

    store = output.get("store")
    if store is not None:
        if not isinstance(store, str) or not store:
            raise _fail("output.store", store, "it must be a file path string")
        store = (base or Path.cwd()) / store
    return SweepConfig(name=name, family=family, n_samples=n_samples, fixed=model, grid=grid,
                       seed=seed, params=params, chunk_size=chunk_size, method=method, n_paths=n_paths,
                       theory=theory, store=store)


def load_config(source: str | Path | Mapping[str, Any]) -> SweepConfig:
    """Read a study from a TOML file (or an already parsed dict) and validate it.

    Parameters
    ----------
    source : path or mapping

    Returns
    -------
    SweepConfig

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        The TOML does not parse, or any key is missing, unknown or has a bad value.
    """
    if isinstance(source, Mapping):
        return parse_config(source)
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"config file {str(path)!r} does not exist")
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"config file {str(path)!r} is not valid TOML: {err}") from None
    return parse_config(data, default_name=path.stem, base=path.parent)
