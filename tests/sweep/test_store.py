import csv
import sys

import pytest
from sweep_helpers import TINY, store_rows, study

import qcgrad as qg
from qcgrad.sweep import run
from qcgrad.sweep.config import parse_config
from qcgrad.sweep.store import Store


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    path = tmp_path_factory.mktemp("store") / "r.sqlite"
    run(TINY, store=path)
    return path


def test_stored_gradients_recompute_the_stored_statistics(filled):
    with Store.open(filled) as store:
        records = store.records()
        assert len(records) == 6 and {r["status"] for r in records} == {"done"}
        for r in records[:2]:
            grads = store.gradients(r["point_id"])
            assert grads.shape == (24, 1) and grads.dtype == qg.classical.mlp(depth=1, width=3).dtype
            est = qg.summarize(grads, r["indices"], r["seed"], r["params"])
            assert (est.variance, est.ci) == (r["variance"], r["ci"])
        assert r["version"] == qg.__version__ and r["model"]["architecture"] == "mlp"
        with pytest.raises(KeyError, match="no finished point"):
            store.gradients("nope")


def test_the_store_is_in_wal_mode(filled):
    with Store.open(filled) as store:
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_csv_has_one_row_per_point_and_a_column_per_knob(filled, tmp_path):
    with Store.open(filled) as store:
        path = store.to_csv(tmp_path / "r.csv")
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 6
    assert {"depth", "activation", "width", "variance", "ci_low"} <= set(rows[0])
    assert sorted({r["activation"] for r in rows}) == ["relu", "tanh"]


def test_dataframe_needs_pandas_and_says_so(filled, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    with Store.open(filled) as store, pytest.raises(ImportError, match="qcgrad\\[pandas\\]"):
        store.to_dataframe()


def test_dataframe_when_pandas_is_installed(filled):
    pytest.importorskip("pandas")
    with Store.open(filled) as store:
        frame = store.to_dataframe()
    assert len(frame) == 6 and frame["depth"].tolist().count(1) == 2


def test_a_different_config_is_refused_naming_what_differs(filled):
    with Store.open(filled) as store:
        with pytest.raises(ValueError, match=r"differs in: grid\.depth, study\.n_samples.*--extend"):
            store.check_config(parse_config(study(study={"n_samples": 30}, grid={"depth": [1]})))
        store.check_config(parse_config(study(study={"n_samples": 30})), extend=True)


def test_files_that_are_not_stores_are_refused_untouched(tmp_path):
    path = tmp_path / "x.sqlite"
    content = b"not a database at all" * 10
    path.write_bytes(content)
    for mode in ({"create": True}, {}, {"readonly": True}):
        with pytest.raises(ValueError, match="not an SQLite database"):
            Store.open(path, **mode)
    assert path.read_bytes() == content


def test_truncated_and_foreign_sqlite_files_are_refused(filled, tmp_path):
    import sqlite3

    truncated = tmp_path / "t.sqlite"
    data = filled.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a usable qcgrad results store"):
        Store.open(truncated)
    foreign = tmp_path / "f.sqlite"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(ValueError, match="it has tables \\['t'\\]"):
        Store.open(foreign)


def test_missing_store_and_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Store.open(tmp_path / "none.sqlite")
    with pytest.raises(FileNotFoundError, match="folder"):
        Store.open(tmp_path / "no" / "r.sqlite", create=True)


def test_records_filter_by_status(filled):
    with Store.open(filled) as store:
        assert store.records("failed") == [] and len(store.records("done")) == 6
        with pytest.raises(ValueError, match="status='ok'"):
            store.records("ok")
    assert len(store_rows(filled)) == 6
