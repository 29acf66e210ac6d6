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
