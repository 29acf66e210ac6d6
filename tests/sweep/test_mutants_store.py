"""Store: the checks mutation testing asked for (error messages name the bad path and what to do)."""
import sqlite3
from pathlib import Path

import pytest

from qcgrad.sweep.store import Store, StoreNotWritable, _not_writable


def test_csv_into_a_missing_folder_names_the_file_and_the_folder(tmp_path):
    with Store.open(tmp_path / "r.sqlite", create=True) as store:
        target = tmp_path / "missing" / "r.csv"
        with pytest.raises(FileNotFoundError, match="folder .*missing.* does not exist") as info:
            store.to_csv(target)
    assert str(target) in str(info.value)


def test_not_writable_errors_name_the_store_or_its_folder():
    # The message for a folder nobody may write into (SQLite's "unable to open") names the folder;
    # any other SQLite refusal is reported as a read-only store. Both keep SQLite's own words.
    path = Path("/data/run/r.sqlite")
    folder = _not_writable(path, sqlite3.OperationalError("unable to open database file"))
    assert isinstance(folder, StoreNotWritable)
    assert "its folder '/data/run' is not writable" in str(folder) and "'/data/run/r.sqlite'" in str(folder)
    assert "SQLite says: unable to open database file" in str(folder)
    locked = _not_writable(path, sqlite3.OperationalError("attempt to write a readonly database"))
    assert "store '/data/run/r.sqlite' is read-only" in str(locked)


def test_records_read_back_the_scanned_knobs_of_each_point(tmp_path):
    # TINY scans depth and activation (in that order, as its grid lists them) and fixes width.
    from sweep_helpers import TINY

    from qcgrad.sweep import run

    path = tmp_path / "r.sqlite"
    run(TINY, store=path)
    with Store.open(path, readonly=True) as store:
        records = store.records()
    assert len(records) == 6
    assert all(r["scanned"] == ["depth", "activation"] for r in records)
    assert sorted((r["knobs"]["depth"], r["knobs"]["activation"]) for r in records) == sorted(
        (d, a) for d in TINY["grid"]["depth"] for a in TINY["grid"]["activation"])


@pytest.mark.parametrize("damage", ["truncated", "body overwritten"])
def test_a_damaged_store_opened_read_only_is_refused_naming_it(tmp_path, damage):
    # The SQLite header is intact, the body is not. Truncated: SQLite fails on reading the schema;
    # overwritten after page 1: the schema reads and the integrity check fails. Either way SQLite's own
    # error is reported with the store's path, and the file is left as it was.
    with Store.open(tmp_path / "store.sqlite", create=True):
        pass
    data = (tmp_path / "store.sqlite").read_bytes()
    page = 4096  # SQLite's default page size: page 1 holds the header and the schema
    body = data[: len(data) // 2] if damage == "truncated" else data[:page] + b"\x13" * (len(data) - page)
    path = tmp_path / "damaged.sqlite"
    path.write_bytes(body)
    with pytest.raises(ValueError, match="not a usable qcgrad results store") as info:
        Store.open(path, readonly=True)
    assert str(path) in str(info.value) and "SQLite says" in str(info.value)
    assert path.read_bytes() == body


def _unfinished_store(path: Path) -> Path:
    """What a store creation killed after its first table leaves: one empty store table."""
    from qcgrad.sweep.store import TABLE_SQL

    db = sqlite3.connect(path)
    db.execute(TABLE_SQL["meta"])
    db.commit()
    db.close()
    return path


@pytest.mark.parametrize("mode", [{}, {"readonly": True}])
def test_an_unfinished_store_says_how_to_complete_it(tmp_path, mode):
    from qcgrad.sweep.store import UnfinishedStore

    path = _unfinished_store(tmp_path / "r.sqlite")
    # the whole instruction, up to the parenthesis that closes the reason
    done = r"(no rows\)|it holds no points); run `qcgrad sweep` on it to complete it\)"
    with pytest.raises(UnfinishedStore, match=done) as info:
        Store.open(path, **mode)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("mode", [{}, {"readonly": True}])
def test_a_foreign_sqlite_file_is_refused_naming_its_path_and_tables(tmp_path, mode):
    path = tmp_path / "other.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x)")
    db.execute("INSERT INTO t VALUES (1)")
    db.commit()
    db.close()
    with pytest.raises(ValueError, match=r"it has tables \['t'\]") as info:
        Store.open(path, **mode)
    assert f"store {str(path)!r} is not a usable qcgrad results store" in str(info.value)


def test_a_folder_given_as_the_store_is_refused(tmp_path):
    with pytest.raises(ValueError, match="it is not a file") as info:
        Store.open(tmp_path)
    assert str(tmp_path) in str(info.value)



def test_a_model_description_with_values_json_cannot_hold_is_stored_as_their_text(tmp_path):
    # A user model may describe itself with any objects (a dtype, a device): they are written as str().
    import dataclasses

    import torch
    from sweep_helpers import TINY

    from qcgrad.sweep.config import parse_config
    from qcgrad.sweep.grid import expand
    from qcgrad.sweep.worker import compute_point

    cfg = parse_config(TINY)
    point = expand(cfg)[0]
    result = dataclasses.replace(compute_point(point), model={"architecture": "mine", "dtype": torch.float64})
    with Store.open(tmp_path / "r.sqlite", create=True) as store:
        store.add_config(cfg)
        store.write(point, cfg, result, "test")
        assert store.records()[0]["model"] == {"architecture": "mine", "dtype": "torch.float64"}
