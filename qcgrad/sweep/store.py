"""The results store: one SQLite file (WAL mode), one row per finished point.

Each row is committed the moment its point finishes, so a killed sweep loses nothing and
resumes where it stopped. Rows hold the knobs, the statistics, the per-sample gradients
(enough to recompute any statistic with :func:`qcgrad.summarize`), the seconds spent, the
library version and the model description. The ``configs`` table remembers which study
configs wrote into the store, so a different config is refused unless it extends the store.
"""
from __future__ import annotations

import csv
import datetime
import json
import sqlite3
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from .config import SweepConfig
from .grid import Point
from .worker import PointResult

SCHEMA_VERSION = "1"
SQLITE_HEADER = b"SQLite format 3\x00"
SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE configs (fingerprint TEXT PRIMARY KEY, name TEXT NOT NULL, config TEXT NOT NULL,
                      added TEXT NOT NULL);
CREATE TABLE points (
    point_id TEXT PRIMARY KEY, config TEXT NOT NULL, key TEXT NOT NULL, family TEXT NOT NULL,
    name TEXT NOT NULL, knobs TEXT NOT NULL, scanned TEXT NOT NULL, seed INTEGER NOT NULL,
    n_samples INTEGER NOT NULL, params TEXT NOT NULL, chunk_size INTEGER,
    status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    variance REAL, ci_low REAL, ci_high REAL, se REAL, kurtosis REAL, mean REAL,
    indices TEXT, grads BLOB, grads_dtype TEXT, grads_shape TEXT,
    seconds REAL NOT NULL, version TEXT NOT NULL, model TEXT, error TEXT, finished TEXT NOT NULL);
"""
TABLES = ("configs", "meta", "points")
#: Columns of :meth:`Store.records` that are exported flat (knobs become their own columns).
RECORD_COLUMNS = ("point_id", "family", "name", "status", "variance", "ci_low", "ci_high", "se",
                  "kurtosis", "mean", "n_samples", "seed", "params", "seconds", "version", "error",
                  "finished")


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _not_a_store(path: Path, why: str) -> ValueError:
    return ValueError(f"store {str(path)!r} is not a usable qcgrad results store ({why}); "
                      "give the path of a store written by `qcgrad sweep`, or a new file name")


def _config_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Dotted keys whose values differ between two :meth:`SweepConfig.to_dict` documents."""
    keys = []
    for section in sorted(set(old) | set(new)):
        a, b = old.get(section, {}), new.get(section, {})
        keys += [f"{section}.{k}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    return keys


class Store:
    """A results store on disk. Open it with :meth:`open`; use it as a context manager.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "results.sqlite"
    >>> with Store.open(path, create=True) as store:
    ...     store.records()
    []
    """

    def __init__(self, path: Path, connection: sqlite3.Connection):
        self.path, self.db = path, connection

    @classmethod
    def open(cls, path: str | Path, create: bool = False) -> "Store":
        """Open an existing store, checking that it is intact; or create it when ``create``.

        Nothing is written to an existing file until it has passed every check.

        Raises
        ------
        FileNotFoundError
            ``path`` does not exist and ``create`` is False, or its folder does not exist.
        ValueError
            The file is empty, not SQLite, damaged, or an SQLite file that is not a store.
        """
        path = Path(path)
        if not path.exists():
            if not create:
                raise FileNotFoundError(f"store {str(path)!r} does not exist")
            if not path.parent.is_dir():
                raise FileNotFoundError(f"folder {str(path.parent)!r} of store {str(path)!r} does not exist")
            db = sqlite3.connect(path)
            db.executescript(SCHEMA)
            db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            db.commit()
        else:
            db = cls._connect_existing(path)
        db.execute("PRAGMA journal_mode=WAL")  # readers never block the writer; commits are appends
        db.execute("PRAGMA synchronous=FULL")  # a committed point survives a crash of the machine
        return cls(path, db)

    @staticmethod
    def _connect_existing(path: Path) -> sqlite3.Connection:
        if not path.is_file():
            raise _not_a_store(path, "it is not a file")
        with path.open("rb") as f:
            header = f.read(len(SQLITE_HEADER))
        if len(header) == 0:
            raise _not_a_store(path, "the file is empty")
        if header != SQLITE_HEADER:
            raise _not_a_store(path, "the file is not an SQLite database")
        db = sqlite3.connect(path)
        try:
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise _not_a_store(path, f"the database is damaged: {check}")
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not set(TABLES) <= tables:
                raise _not_a_store(path, f"it has tables {sorted(tables)}, not {list(TABLES)}")
            (schema,) = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone() or ("?",)
            if schema != SCHEMA_VERSION:
                raise _not_a_store(path, f"schema version {schema}, this qcgrad reads {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as err:
            db.close()
            raise _not_a_store(path, f"SQLite says: {err}") from None
        except ValueError:
            db.close()
            raise
        return db

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def check_config(self, config: SweepConfig, extend: bool = False) -> None:
        """Raise ValueError if the store was written by other configs and ``extend`` is False."""
        rows = self.db.execute("SELECT fingerprint, name, config FROM configs").fetchall()
        if not rows or extend or any(fp == config.fingerprint for fp, _, _ in rows):
            return
        fp, name, text = rows[0]
        differs = _config_diff(json.loads(text), config.to_dict())
        raise ValueError(
            f"store {str(self.path)!r} was made from a different config (study {name!r}; this one "
            f"differs in: {', '.join(differs)}); pass --extend (extend=True) to add this config's "
            "points to it, or choose another store")

    def add_config(self, config: SweepConfig, extend: bool = False) -> None:
        """Check ``config`` (see :meth:`check_config`) and remember it."""
        self.check_config(config, extend)
        with self.db:
            self.db.execute("INSERT OR IGNORE INTO configs VALUES (?, ?, ?, ?)",
                            (config.fingerprint, config.name, json.dumps(config.to_dict(), sort_keys=True),
                             _now()))

    def statuses(self) -> dict[str, str]:
        """point_id -> "done" | "failed" for every stored point."""
        return dict(self.db.execute("SELECT point_id, status FROM points"))

    def write(self, point: Point, config: SweepConfig, result: PointResult, version: str) -> None:
        """Store one point's result and commit at once (a failed row is replaced on retry)."""
        grads = result.grads
        ci = result.ci or (None, None)
        row = (point.point_id, config.fingerprint, point.key, point.family, point.name,
               json.dumps(point.knobs, sort_keys=True), json.dumps(list(point.scanned)), point.seed,
               point.n_samples, json.dumps(point.params), point.chunk_size, result.status,
               result.variance, ci[0], ci[1], result.se, result.kurtosis, result.mean,
               json.dumps(result.indices), None if grads is None else grads.tobytes(),
               None if grads is None else grads.dtype.str,
               None if grads is None else json.dumps(list(grads.shape)), result.seconds, version,
               json.dumps(result.model, sort_keys=True, default=str), result.error, _now())
        with self.db:
            self.db.execute(f"INSERT OR REPLACE INTO points VALUES ({', '.join('?' * len(row))})", row)

    def _rows(self, where: str = "", args: tuple = ()) -> Iterator[dict[str, Any]]:
        cursor = self.db.execute(f"SELECT * FROM points {where} ORDER BY key, point_id", args)
        names = [d[0] for d in cursor.description]
        for values in cursor:
            yield dict(zip(names, values))

    def records(self, status: str | None = None) -> list[dict[str, Any]]:
        """Stored points as dicts, sorted by key.

        Each has the columns of the ``points`` table with JSON decoded (``knobs``, ``scanned``,
        ``model``, ``indices``, ``params``), ``ci`` as a tuple, and no gradients (see
        :meth:`gradients`).

        Parameters
        ----------
        status : {"done", "failed"}, optional
            Only points with this status.
        """
        if status not in (None, "done", "failed"):
            raise ValueError(f"status={status!r} is not allowed; use 'done', 'failed' or None")
        rows = self._rows("WHERE status = ?", (status,)) if status else self._rows()
        records = []
        for row in rows:
            for column in ("knobs", "scanned", "model", "indices", "params"):
                row[column] = json.loads(row[column]) if row[column] is not None else None
            for column in ("grads", "grads_dtype", "grads_shape"):
                del row[column]
            row["ci"] = (row["ci_low"], row["ci_high"])
            records.append(row)
        return records

    def gradients(self, point_id: str) -> torch.Tensor:
        """The per-sample gradients ``Tensor[n_samples, k]`` stored with a finished point."""
        row = self.db.execute("SELECT grads, grads_dtype, grads_shape FROM points WHERE point_id = ?",
                              (point_id,)).fetchone()
        if row is None or row[0] is None:
            raise KeyError(f"no finished point with point_id {point_id!r} in store {str(self.path)!r}")
        array = np.frombuffer(row[0], dtype=np.dtype(row[1])).reshape(json.loads(row[2]))
        return torch.from_numpy(array.copy())

    def table(self) -> tuple[list[str], list[list[Any]]]:
        """Flat columns and rows: the record columns then one column per knob."""
        records = self.records()
        knobs = sorted({k for r in records for k in r["knobs"]})
        header = list(RECORD_COLUMNS) + knobs
        rows = [[r[c] for c in RECORD_COLUMNS] + [r["knobs"].get(k) for k in knobs] for r in records]
        return header, rows

    def to_csv(self, path: str | Path) -> Path:
        """Write :meth:`table` as CSV; returns the path."""
        header, rows = self.table()
        path = Path(path)
        with path.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows)
        return path

    def to_dataframe(self) -> Any:
        """:meth:`table` as a pandas DataFrame (needs the ``pandas`` extra)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("to_dataframe needs pandas; install the extra: pip install 'qcgrad[pandas]', "
                              "or use records() / to_csv()") from None
        header, rows = self.table()
        return pd.DataFrame(rows, columns=header)
