"""Tiny studies and store comparisons shared by the sweep tests."""
from __future__ import annotations

import copy
import sqlite3
from pathlib import Path

#: Six mlp points of a few milliseconds each; chunk_size < n_samples exercises chunking.
TINY = {
    "study": {"name": "tiny", "seed": 3, "n_samples": 24, "chunk_size": 8},
    "model": {"family": "classical", "architecture": "mlp", "width": 3},
    "grid": {"depth": [1, 2, 3], "activation": ["tanh", "relu"]},
}

#: Eight mlp points of about a tenth of a second each: a kill lands mid-run (kill-and-resume tests).
KILL_STUDY = """
[study]
name = "kill"
n_samples = 128
chunk_size = 64
[model]
family = "classical"
architecture = "mlp"
width = 16
activation = "tanh"
[grid]
depth = [2, 3, 4, 5, 6, 7, 8, 9]
"""
KILL_POINTS = 8

#: Columns that legitimately differ between two runs of the same study.
TIMING_COLUMNS = ("seconds", "finished")


def study(**sections) -> dict:
    """A deep copy of :data:`TINY` with sections updated key by key."""
    config = copy.deepcopy(TINY)
    for section, values in sections.items():
        config.setdefault(section, {}).update(values)
    return config


def store_rows(path: Path) -> list[tuple]:
    """Every stored point without timing columns, ordered by point_id (bit-exact comparison)."""
    db = sqlite3.connect(path)
    try:
        names = [r[1] for r in db.execute("PRAGMA table_info(points)") if r[1] not in TIMING_COLUMNS]
        return db.execute(f"SELECT {', '.join(names)} FROM points ORDER BY point_id").fetchall()
    finally:
        db.close()


def done_points(path: Path) -> int:
    """Points stored as done so far, read without writing (0 before the store exists)."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return db.execute("SELECT count(*) FROM points WHERE status = 'done'").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:  # not created yet
        return 0
