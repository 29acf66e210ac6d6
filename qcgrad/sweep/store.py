"""The results store: one SQLite file (WAL mode), one row per finished point.

Each row is committed the moment its point finishes, so a killed sweep loses nothing and
resumes where it stopped. Rows hold the knobs, the statistics, the per-sample gradients
(enough to recompute any statistic with :func:`qcgrad.summarize`), the seconds spent, the
library version and the model description. The ``configs`` table remembers which study
configs wrote into the store, so a different config is refused unless it extends the store.

Crash and concurrency safety:

- The schema is written in one transaction, so a store is either complete or has no
  qcgrad rows at all. A file left by a creation that was killed (empty, or some of the
  tables and no rows) is an *unfinished* store: opening it to write completes it.
- Sweeps running at the same time on one store *claim* each point before measuring it
  (table ``claims``, one row per point in progress). A claim is live while its owner runs:
  on the same host while its process exists, elsewhere for :data:`LEASE_SECONDS` after the
  owner's last write. A point claimed by a live owner is left to it.
- Reading (:meth:`Store.open` with ``readonly=True``) never writes, so a store one may read
  but not write can be plotted and exported.
"""
from __future__ import annotations

import contextlib
import csv
import datetime
import json
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import torch

from .config import SweepConfig
from .grid import Point
from .worker import PointResult

SCHEMA_VERSION = "1"
SQLITE_HEADER = b"SQLite format 3\x00"
#: Every table of a store and how to create it.
TABLE_SQL = {
    "meta": "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "configs": "CREATE TABLE configs (fingerprint TEXT PRIMARY KEY, name TEXT NOT NULL, config TEXT NOT NULL, "
               "added TEXT NOT NULL)",
    "points": """CREATE TABLE points (
    point_id TEXT PRIMARY KEY, config TEXT NOT NULL, key TEXT NOT NULL, family TEXT NOT NULL,
    name TEXT NOT NULL, knobs TEXT NOT NULL, scanned TEXT NOT NULL, seed INTEGER NOT NULL,
    n_samples INTEGER NOT NULL, params TEXT NOT NULL, chunk_size INTEGER,
    status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    variance REAL, ci_low REAL, ci_high REAL, se REAL, kurtosis REAL, mean REAL,
    indices TEXT, grads BLOB, grads_dtype TEXT, grads_shape TEXT,
    seconds REAL NOT NULL, version TEXT NOT NULL, model TEXT, error TEXT, finished TEXT NOT NULL,
    method TEXT, prediction TEXT)""",
    "claims": "CREATE TABLE claims (point_id TEXT PRIMARY KEY, owner TEXT NOT NULL, host TEXT NOT NULL, "
              "pid INTEGER NOT NULL, heartbeat REAL NOT NULL)",
}
#: Tables a finished store must have (``claims`` is added to older stores when they are written).
TABLES = ("configs", "meta", "points")
#: Columns of ``points`` added after schema 1 was released; added to older stores when written.
ADDED_COLUMNS = {"method": "TEXT", "prediction": "TEXT"}
#: Seconds a claim from another host stays live after its owner's last write.
LEASE_SECONDS = 3600.0
#: Seconds a write waits for another sweep's transaction on the same store.
BUSY_TIMEOUT = 60.0
#: Columns of :meth:`Store.records` that are exported flat (knobs become their own columns).
RECORD_COLUMNS = ("point_id", "family", "name", "status", "variance", "ci_low", "ci_high", "se",
                  "kurtosis", "mean", "n_samples", "seed", "params", "method", "seconds", "version", "error",
                  "finished")
#: Columns holding JSON text, decoded by :meth:`Store.records`.
JSON_COLUMNS = ("knobs", "scanned", "model", "indices", "params", "prediction")


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


class StoreNotWritable(PermissionError, ValueError):
    """The store (or its folder) cannot be written; reading it still works."""


class UnfinishedStore(ValueError):
    """The store's creation did not finish; a sweep on it completes it."""


def _not_a_store(path: Path, why: str, error: type[ValueError] = ValueError) -> ValueError:
    return error(f"store {str(path)!r} is not a usable qcgrad results store ({why}); "
                 "give the path of a store written by `qcgrad sweep`, or a new file name")


def _not_writable(path: Path, err: sqlite3.Error) -> StoreNotWritable:
    if "unable to open" in str(err):
        where = f"cannot create or open store {str(path)!r}: its folder {str(path.parent)!r} is not writable"
    else:
        where = f"store {str(path)!r} is read-only"
    return StoreNotWritable(f"{where} (SQLite says: {err}); a sweep must write the store and its -wal/-shm files "
                            "next to it: fix the permissions or choose another --store. Reading (qcgrad plot, "
                            "qcgrad.sweep.load) needs read access only")


def _config_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Dotted keys whose values differ between two :meth:`SweepConfig.to_dict` documents."""
    keys = []
    for section in sorted(set(old) | set(new)):
        a, b = old.get(section, {}), new.get(section, {})
        keys += [f"{section}.{k}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    return keys


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


@contextlib.contextmanager
def _closed_on_error(path: Path, db: sqlite3.Connection) -> Iterator[None]:
    """Close ``db`` when the checks run inside fail, SQLite's own errors reported as a file
    that is not a usable store (the refusals the checks raise pass through as they are)."""
    try:
        yield
    except sqlite3.DatabaseError as err:
        db.close()
        raise _not_a_store(path, f"SQLite says: {err}") from None
    except ValueError:
        db.close()
        raise


def _tables(db: sqlite3.Connection) -> set[str]:
    return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _unfinished(db: sqlite3.Connection, tables: set[str]) -> bool:
    """Whether the database is what a killed store creation leaves: only store tables, all empty."""
    return tables <= set(TABLE_SQL) and all(
        db.execute(f"SELECT EXISTS (SELECT 1 FROM {t})").fetchone()[0] == 0 for t in tables)


class Store:
    """A results store on disk. Open it with :meth:`open`; use it as a context manager.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "results.sqlite"
    >>> with Store.open(path, create=True) as store:
    ...     store.records()
    []
    >>> with Store.open(path, readonly=True) as store:   # what plotting and exporting use
    ...     store.readonly
    True
    """

    def __init__(self, path: Path, connection: sqlite3.Connection, readonly: bool = False):
        self.path, self.db, self.readonly = path, connection, readonly
        #: This connection's identity in the ``claims`` table.
        self.owner = uuid.uuid4().hex

    @classmethod
    def open(cls, path: str | Path, create: bool = False, readonly: bool = False) -> Store:
        """Open an existing store, checking that it is intact; or create it when ``create``.

        Nothing is written to an existing file until it has passed every check; with
        ``readonly`` nothing is ever written. An unfinished store (see the module docstring)
        is completed when opened to write with ``create``.

        Raises
        ------
        FileNotFoundError
            ``path`` does not exist and ``create`` is False, or its folder does not exist.
        StoreNotWritable
            (a PermissionError and a ValueError) the store or its folder cannot be written.
        UnfinishedStore
            (a ValueError) the store's creation did not finish and ``create`` is False.
        ValueError
            The file is not SQLite, damaged, or an SQLite file that is not a store.
        """
        path = Path(path)
        if create and readonly:
            raise ValueError("create=True and readonly=True exclude each other")
        if not path.exists():
            if not create:
                raise FileNotFoundError(f"store {str(path)!r} does not exist")
            if not path.parent.exists():
                raise FileNotFoundError(f"folder {str(path.parent)!r} of store {str(path)!r} does not exist")
            if not path.parent.is_dir():
                raise FileNotFoundError(f"{str(path.parent)!r} (the folder of store {str(path)!r}) is a file, "
                                        "not a folder")
        elif not path.is_file():
            raise _not_a_store(path, "it is not a file")
        else:
            cls._check_header(path, empty_ok=create)
        if readonly:
            return cls(path, cls._connect_readonly(path), readonly=True)
        try:
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
        except sqlite3.OperationalError as err:
            raise _not_writable(path, err) from None
        with _closed_on_error(path, db):
            try:
                cls._prepare(path, db, create)
                _wal_mode(db)  # readers never block the writer; commits are appends
                db.execute("PRAGMA synchronous=FULL")  # a committed point survives a crash of the machine
            except sqlite3.OperationalError as err:
                if "readonly" in str(err) or "unable to open" in str(err):
                    raise _not_writable(path, err) from None
                raise
        return cls(path, db)

    @staticmethod
    def _check_header(path: Path, empty_ok: bool) -> None:
        """Refuse a file that is not SQLite before SQLite touches it.

        A file with a rollback journal beside it is left to SQLite: the journal restores it.
        """
        if Path(f"{path}-journal").exists():
            return
        with path.open("rb") as f:
            header = f.read(len(SQLITE_HEADER))
        if len(header) == 0 and not empty_ok:
            raise _not_a_store(path, "the file is empty: a store whose creation did not finish; run "
                                     "`qcgrad sweep` on it to complete it", UnfinishedStore)
        if header and header != SQLITE_HEADER:
            raise _not_a_store(path, "the file is not an SQLite database")

    @staticmethod
    def _check_finished(path: Path, db: sqlite3.Connection, tables: set[str]) -> None:
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise _not_a_store(path, f"the database is damaged: {check}")
        if not set(TABLES) <= tables:
            raise _not_a_store(path, f"it has tables {sorted(tables)}, not {list(TABLES)}")
        (schema,) = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone() or ("?",)
        if schema != SCHEMA_VERSION:
            raise _not_a_store(path, f"schema version {schema}, this qcgrad reads {SCHEMA_VERSION}")

    @classmethod
    def _prepare(cls, path: Path, db: sqlite3.Connection, create: bool) -> None:
        """Check the store and bring it up to date, in one write transaction (which also
        serializes sweeps that create the same new store at once)."""
        db.execute("BEGIN IMMEDIATE")
        try:
            tables = _tables(db)
            if _unfinished(db, tables):
                if not create:
                    raise _not_a_store(path, f"a store whose creation did not finish (tables {sorted(tables)}, "
                                             "no rows); run `qcgrad sweep` on it to complete it", UnfinishedStore)
                for name, sql in TABLE_SQL.items():
                    if name not in tables:
                        db.execute(sql)
                db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
                db.execute("INSERT INTO meta VALUES ('created', ?)", (_now(),))
            else:
                cls._check_finished(path, db, tables)
                if "claims" not in tables:
                    db.execute(TABLE_SQL["claims"])
                columns = {r[1] for r in db.execute("PRAGMA table_info(points)")}
                for column, kind in ADDED_COLUMNS.items():
                    if column not in columns:
                        db.execute(f"ALTER TABLE points ADD COLUMN {column} {kind}")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    @classmethod
    def _connect_readonly(cls, path: Path) -> sqlite3.Connection:
        """A connection that cannot write. A WAL store in a folder one cannot write has no
        shared-memory file to open, so it is read as an immutable snapshot instead."""
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        try:
            db = sqlite3.connect(uri, uri=True)
            try:
                tables = _tables(db)
            except sqlite3.OperationalError as err:
                if "readonly" not in str(err) and "unable to open" not in str(err):
                    raise
                db.close()
                db = sqlite3.connect(uri + "&immutable=1", uri=True)
                tables = _tables(db)
        except sqlite3.DatabaseError as err:
            raise _not_a_store(path, f"SQLite says: {err}") from None
        with _closed_on_error(path, db):
            if _unfinished(db, tables):
                raise _not_a_store(path, "a store whose creation did not finish: it holds no points; run "
                                         "`qcgrad sweep` on it to complete it", UnfinishedStore)
            cls._check_finished(path, db, tables)
        return db

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed (durably) when the block ends."""
        if self.readonly:
            raise StoreNotWritable(f"store {str(self.path)!r} was opened read-only")
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            raise _not_writable(self.path, err) from None
        try:
            yield self.db
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        """Release this connection's claims (points it did not finish) and close."""
        if not self.readonly:
            with contextlib.suppress(sqlite3.Error, StoreNotWritable), self._transaction() as db:
                db.execute("DELETE FROM claims WHERE owner = ?", (self.owner,))
        self.db.close()

    def __enter__(self) -> Store:
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
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO configs VALUES (?, ?, ?, ?)",
                       (config.fingerprint, config.name, json.dumps(config.to_dict(), sort_keys=True), _now()))

    def statuses(self) -> dict[str, str]:
        """point_id -> "done" | "failed" for every stored point."""
        return dict(self.db.execute("SELECT point_id, status FROM points"))

    def _live(self, owner: str, host: str, pid: int, heartbeat: float) -> bool:
        """Whether a claim's owner may still be measuring the point."""
        if owner == self.owner:
            return False
        if host == socket.gethostname():
            return _process_exists(pid)
        return time.time() - heartbeat < LEASE_SECONDS

    def claim(self, point_id: str, status: str | None = None) -> bool:
        """Claim a point for this connection if it still needs measuring; True if claimed.

        Parameters
        ----------
        point_id : str
        status : {None, "failed"}
            What the stored point must be for it to need measuring: absent (None), or
            recorded as failed (a retry).

        Returns
        -------
        bool
            False when another sweep finished the point meanwhile or holds a live claim.
        """
        with self._transaction() as db:
            row = db.execute("SELECT status FROM points WHERE point_id = ?", (point_id,)).fetchone()
            if (row and row[0]) != status:
                return False
            held = db.execute("SELECT owner, host, pid, heartbeat FROM claims WHERE point_id = ?",
                              (point_id,)).fetchone()
            if held is not None and self._live(*held):
                return False
            db.execute("INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?)",
                       (point_id, self.owner, socket.gethostname(), os.getpid(), time.time()))
        return True

    def write(self, point: Point, config: SweepConfig, result: PointResult, version: str) -> None:
        """Store one point's result and commit at once (a failed row is replaced on retry).

        The commit is durable when this returns: another connection sees the point. The
        point's claim is released and this owner's other claims are renewed.
        """
        grads = result.grads
        ci = result.ci or (None, None)
        row = {"point_id": point.point_id, "config": config.fingerprint, "key": point.key,
               "family": point.family, "name": point.name, "knobs": json.dumps(point.knobs, sort_keys=True),
               "scanned": json.dumps(list(point.scanned)), "seed": point.seed, "n_samples": point.n_samples,
               "params": json.dumps(point.params), "chunk_size": point.chunk_size, "status": result.status,
               "variance": result.variance, "ci_low": ci[0], "ci_high": ci[1], "se": result.se,
               "kurtosis": result.kurtosis, "mean": result.mean, "indices": json.dumps(result.indices),
               "grads": None if grads is None else grads.tobytes(),
               "grads_dtype": None if grads is None else grads.dtype.str,
               "grads_shape": None if grads is None else json.dumps(list(grads.shape)),
               "seconds": result.seconds, "version": version,
               "model": json.dumps(result.model, sort_keys=True, default=str), "error": result.error,
               "finished": _now(), "method": result.method,
               "prediction": None if result.prediction is None else json.dumps(result.prediction, default=str)}
        columns = ", ".join(row)
        with self._transaction() as db:
            db.execute(f"INSERT OR REPLACE INTO points ({columns}) VALUES ({', '.join('?' * len(row))})",
                       tuple(row.values()))
            db.execute("DELETE FROM claims WHERE point_id = ? AND owner = ?", (point.point_id, self.owner))
            db.execute("UPDATE claims SET heartbeat = ? WHERE owner = ?", (time.time(), self.owner))

    def _rows(self, where: str = "", args: tuple = ()) -> Iterator[dict[str, Any]]:
        cursor = self.db.execute(f"SELECT * FROM points {where} ORDER BY key, point_id", args)
        names = [d[0] for d in cursor.description]
        for values in cursor:
            yield dict(zip(names, values, strict=True))

    def records(self, status: str | None = None) -> list[dict[str, Any]]:
        """Stored points as dicts, sorted by key.

        Each has the columns of the ``points`` table with JSON decoded (``knobs``, ``scanned``,
        ``model``, ``indices``, ``params``, ``prediction``), ``ci`` as a tuple, and no
        gradients (see :meth:`gradients`). ``method`` is the estimator that measured the
        point ("sample" or "paths"); ``prediction`` the theory value when the study asked for
        it (``Prediction.to_dict()``, or ``{"refused": reason}``).

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
            for column in ADDED_COLUMNS:  # a store written before these columns existed
                row.setdefault(column, None)
            for column in JSON_COLUMNS:
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
        """Flat columns and rows: the record columns, ``predicted`` (the theory variance, when
        the study asked for it and a formula applies), then one column per knob."""
        records = self.records()
        knobs = sorted({k for r in records for k in r["knobs"]})
        header = [*RECORD_COLUMNS, "predicted", *knobs]
        rows = [[r[c] for c in RECORD_COLUMNS] + [(r["prediction"] or {}).get("variance")]
                + [r["knobs"].get(k) for k in knobs] for r in records]
        return header, rows

    def to_csv(self, path: str | Path) -> Path:
        """Write :meth:`table` as CSV; returns the path.

        Raises
        ------
        FileNotFoundError
            The folder of ``path`` does not exist.
        """
        path = Path(path)
        if not path.parent.is_dir():
            raise FileNotFoundError(f"cannot write CSV {str(path)!r}: folder {str(path.parent)!r} does not exist")
        header, rows = self.table()
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


def _wal_mode(db: sqlite3.Connection) -> None:
    """Switch to write-ahead logging, waiting for other connections as the busy timeout would.

    Changing the journal mode needs the database to itself, and SQLite reports "database is
    locked" at once (without its busy handler) while another connection is opening the same new
    store; retry until ``BUSY_TIMEOUT``.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
