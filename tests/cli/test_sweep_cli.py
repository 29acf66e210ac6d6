import csv
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from qcgrad.cli import main

STUDIES = Path(__file__).resolve().parents[2] / "studies"
BASE = {
    "study": {"name": "cli", "seed": 1, "n_samples": 16},
    "model": {"family": "classical", "architecture": "mlp", "width": 3, "activation": "tanh"},
    "grid": {"depth": [1, 2, 3]},
}
QUANTUM = {
    "study": {"n_samples": 16},
    "model": {"family": "quantum", "ansatz": "tensor_product", "n_layers": 1, "cost": "local"},
    "grid": {"n_qubits": [2, 3]},
}


def toml(config: dict) -> str:
    """TOML text for flat tables of scalars and arrays (JSON literals are valid TOML there)."""
    return "".join(f"[{section}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items())
                   for section, table in config.items())


def changed(base: dict, **sections) -> dict:
    """``base`` with keys replaced per section; a value of None removes the key."""
    config = {s: dict(t) for s, t in base.items()}
    for section, values in sections.items():
        table = config.setdefault(section, {})
        for k, v in values.items():
            table.pop(k) if v is None else table.__setitem__(k, v)
    return config


def snapshot(store: Path) -> list:
    db = sqlite3.connect(store)
    try:
        return db.execute("SELECT * FROM points ORDER BY point_id").fetchall() + \
            db.execute("SELECT * FROM configs").fetchall()
    finally:
        db.close()


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A config and the store it produced."""
    folder = tmp_path_factory.mktemp("cli")
    config, store = folder / "cli.toml", folder / "cli.sqlite"
    config.write_text(toml(BASE))
    assert main(["sweep", str(config), "--store", str(store), "--quiet"]) == 0
    return config, store


def test_rerun_skips_and_exports_csv(finished, tmp_path, capsys):
    config, store = finished
    before = snapshot(store)
    assert main(["sweep", str(config), "--store", str(store), "--csv", str(tmp_path / "r.csv")]) == 0
    out = capsys.readouterr().out
    assert "0 run (0 failed), 3 already in" in out and "variance" in out
    assert snapshot(store) == before
    assert [r["depth"] for r in csv.DictReader((tmp_path / "r.csv").open())] == ["1", "2", "3"]


def test_plot_draws_the_store(finished, tmp_path, capsys):
    _, store = finished
    assert main(["plot", str(store), "--out", str(tmp_path / "f.png")]) == 0
    assert (tmp_path / "f.png").stat().st_size > 0
    assert "classical mlp | mlp:" in capsys.readouterr().out


def test_plot_of_a_store_without_a_scan_is_an_error(tmp_path, capsys):
    config, store = tmp_path / "one.toml", tmp_path / "one.sqlite"
    config.write_text(toml(changed(BASE, grid={"depth": [2]})))
    assert main(["sweep", str(config), "--store", str(store), "--quiet"]) == 0
    assert main(["plot", str(store)]) == 2
    assert "no model with a numeric knob scanned" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("study, fits", [
    # Cerezo 2021: global cost decays exponentially in n, local cost polynomially.
    ("quantum_cost", {"cost=global": "exponential", "cost=local": "power"}),
    ("classical_depth", {"activation=sigmoid": "exponential"}),
])
def test_example_studies_run_end_to_end(study, fits, tmp_path, capsys):
    store = tmp_path / f"{study}.sqlite"
    assert main(["sweep", str(STUDIES / f"{study}.toml"), "--store", str(store), "--quiet"]) == 0
    assert main(["plot", str(store), "--out", str(tmp_path / "f.png")]) == 0
    out = capsys.readouterr().out
    for series, kind in fits.items():
        assert f"| {series}: {kind}" in out


BAD_CONFIGS = [
    (changed(BASE, model={"family": "photonic"}), "model.family='photonic'"),
    (changed(BASE, model={"architecture": "perceptron"}), "model.architecture='perceptron'"),
    (changed(QUANTUM, model={"ansatz": "magic"}), "model.ansatz='magic'"),
    (changed(BASE, model={"activation": "swish"}), "model.activation='swish'"),
    (changed(QUANTUM, model={"cost": "energy"}), "model.cost='energy'"),
    (changed(QUANTUM, grid={"n_qubits": [0, 2]}), "n_qubits=0"),
    (changed(BASE, grid={"depth": [-1, 2]}), "depth=-1"),
    (changed(BASE, grid={"depth": None}), "grid is empty"),
    (changed(BASE, grid={"depth": []}), "grid.depth=[]"),
    (changed(BASE, study={"n_samples": 1}), "study.n_samples=1"),
    (changed(BASE, study={"n_samples": 16.0}), "study.n_samples=16.0"),
    (changed(BASE, grid={"depth": [2.5]}), "depth=2.5"),
    (changed(BASE, study={"seed": -3}), "study.seed=-3"),
    (changed(BASE, study={"n_samples": None}), "study.n_samples is missing"),
    (changed(BASE, study={"bogus": 1}), "unknown key study.bogus"),
    (changed(BASE, model={"colour": "red"}), "it takes: depth, width"),
    (changed(QUANTUM, model={"device": "no.such.device"}), "device='no.such.device' is not available"),
    (changed(BASE, study={"params": "layer:99"}), "params='layer:99'"),
    (changed(BASE, model={"ansatz": "random_pauli"}), "ansatz does not belong to family 'classical'"),
    (changed(BASE, study={"n_samples": 32}), "different config"),  # the store holds another config
    ({**BASE, "extras": {"x": 1}}, "unknown key config.extras"),
]


@pytest.mark.parametrize("config, message", BAD_CONFIGS, ids=[m for _, m in BAD_CONFIGS])
def test_bad_configs_exit_2_and_leave_the_store_untouched(config, message, finished, tmp_path, capsys):
    _, store = finished
    before = snapshot(store)
    path = tmp_path / "bad.toml"
    path.write_text(toml(config))
    assert main(["sweep", str(path), "--store", str(store), "--quiet"]) == 2
    assert message in capsys.readouterr().err
    assert snapshot(store) == before


def _store_file(kind: str, good: Path, folder: Path) -> Path:
    path = folder / "store.sqlite"
    if kind == "truncated":
        path.write_bytes(good.read_bytes()[:3000])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("variance,ci\n0.1,0.2\n")
    elif kind == "foreign":
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE results (x)")
        db.commit()
        db.close()
    return path


@pytest.mark.parametrize("kind, message", [
    ("truncated", "not a usable qcgrad results store"),
    ("text", "not an SQLite database"),
    ("foreign", "it has tables ['results']"),
])
def test_stores_that_are_not_stores_exit_2_untouched(kind, message, finished, tmp_path, capsys):
    config, good = finished
    shutil.copy(good, tmp_path / "good.sqlite")
    path = _store_file(kind, tmp_path / "good.sqlite", tmp_path)
    content = path.read_bytes()
    assert main(["sweep", str(config), "--store", str(path), "--quiet"]) == 2
    assert message in capsys.readouterr().err
    assert path.read_bytes() == content


@pytest.mark.parametrize("argv, message", [
    (["sweep", "missing.toml"], "config file 'missing.toml' does not exist"),
    (["sweep", "{config}", "--store", "{tmp}/no/dir/r.sqlite"], "does not exist"),
    (["sweep", "{config}"], "no results store"),
    (["sweep", "{config}", "--store", "{tmp}/r.sqlite", "--processes", "0"], "processes=0"),
    (["sweep", "{config}", "--store", "{tmp}/r.sqlite", "--dask", "somewhere"], "dask address 'somewhere'"),
    (["plot", "{tmp}/none.sqlite"], "does not exist"),
])
def test_bad_arguments_exit_2(argv, message, finished, tmp_path, capsys):
    config, _ = finished
    argv = [a.format(config=config, tmp=tmp_path) for a in argv]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r.sqlite").exists()


def test_invalid_toml_exits_2(tmp_path, capsys):
    path = tmp_path / "broken.toml"
    path.write_text("[study\nn_samples = 4\n")
    assert main(["sweep", str(path), "--store", str(tmp_path / "r.sqlite")]) == 2
    assert "is not valid TOML" in capsys.readouterr().err


def test_an_empty_file_as_store_is_completed(finished, tmp_path):
    # A 0-byte file is what a sweep killed while creating its store used to leave.
    config, _ = finished
    path = tmp_path / "store.sqlite"
    path.write_bytes(b"")
    assert main(["sweep", str(config), "--store", str(path), "--quiet"]) == 0
    assert len(snapshot(path)) == 3 + 1  # three points and the config


def test_csv_into_a_missing_folder_is_refused_before_running(finished, tmp_path, capsys):
    config, _ = finished
    argv = ["sweep", str(config), "--store", str(tmp_path / "r.sqlite"), "--csv", str(tmp_path / "no" / "r.csv")]
    assert main(argv) == 2
    assert "folder" in (err := capsys.readouterr().err) and "does not exist; nothing was run" in err
    assert not (tmp_path / "r.sqlite").exists()


def test_a_failed_csv_export_says_the_points_are_stored(finished, tmp_path, capsys):
    config, _ = finished
    store = tmp_path / "r.sqlite"
    assert main(["sweep", str(config), "--store", str(store), "--quiet", "--csv", str(tmp_path)]) == 2  # a folder
    assert f"the points are stored in {str(store)!r}, but the CSV export failed" in capsys.readouterr().err
    assert len(snapshot(store)) == 3 + 1


def test_a_store_below_a_file_names_the_file(finished, tmp_path, capsys):
    config, _ = finished
    (tmp_path / "plain").write_text("x")
    assert main(["sweep", str(config), "--store", str(tmp_path / "plain" / "r.sqlite"), "--quiet"]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_paths_method_and_theory_records_match_the_tensor_product_closed_form(tmp_path):
    # Cerezo 2021, local cost: Var[∂C/∂θ₁] = 1/(8n²) exactly; Pauli paths compute it exactly and
    # the theory module predicts it, so both must equal the closed form to rounding.
    config = changed(QUANTUM, study={"method": "paths", "theory": True, "params": [0]})
    path, store = tmp_path / "paths.toml", tmp_path / "paths.sqlite"
    path.write_text(toml(config))
    assert main(["sweep", str(path), "--store", str(store), "--quiet", "--csv", str(tmp_path / "r.csv")]) == 0
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert [float(r["predicted"]) * 8 * int(r["n_qubits"]) ** 2 for r in rows] == pytest.approx([1, 1], abs=1e-12)
    from qcgrad.sweep import load

    with load(store) as results:
        records = results.records("done")
        assert len(records) == 2
        for r in records:
            exact = 1 / (8 * r["knobs"]["n_qubits"] ** 2)
            assert r["method"] == "paths" and r["params"] == [0]
            assert abs(r["variance"] - exact) < 1e-12 and r["ci"] == (r["variance"], r["variance"])
            assert abs(r["prediction"]["variance"] - exact) < 1e-12 and "Cerezo" in r["prediction"]["reference"]
            with pytest.raises(KeyError, match="no finished point"):  # nothing sampled, nothing stored
                results.gradients(r["point_id"])


def test_theory_that_does_not_apply_is_recorded_as_refused(tmp_path):
    config = changed(QUANTUM, model={"shots": 50}, study={"theory": True})
    path, store = tmp_path / "shots.toml", tmp_path / "shots.sqlite"
    path.write_text(toml(config))
    assert main(["sweep", str(path), "--store", str(store), "--quiet"]) == 0
    from qcgrad.sweep import load

    with load(store) as results:
        predictions = [r["prediction"] for r in results.records("done")]
    assert len(predictions) == 2 and all("shots" in p["refused"] for p in predictions)
