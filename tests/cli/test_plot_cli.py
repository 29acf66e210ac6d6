"""`qcgrad plot`: one fit per distinct model, and reading stores one cannot write."""
import json
import sys
from pathlib import Path

from qcgrad.cli import main
from qcgrad.cli.plot import panels

sys.path.insert(0, str(Path(__file__).parents[1] / "sweep"))
from permissions import read_only, shared_folder, unprivileged  # noqa: E402


def _toml(config):
    return "".join(f"[{s}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in t.items()) for s, t in config.items())


def _config(width, **study):
    return {"study": {"name": "w", "n_samples": 16, **study},
            "model": {"family": "classical", "architecture": "mlp", "width": width},
            "grid": {"depth": [1, 2, 3]}}


def _sweep(folder, config, store, *extra):
    path = folder / f"c{len(list(folder.glob('*.toml')))}.toml"
    path.write_text(_toml(config))
    assert main(["sweep", str(path), "--store", str(store), "--quiet", *extra]) == 0


def test_points_of_models_that_differ_in_a_fixed_knob_are_fitted_apart(tmp_path, capsys):
    # Extending a store with width 5 next to width 4 (each fixed in its config) gives two curves.
    store = tmp_path / "r.sqlite"
    _sweep(tmp_path, _config(4), store)
    _sweep(tmp_path, _config(5), store, "--extend")
    assert main(["plot", str(store), "--out", str(tmp_path / "f.png")]) == 0
    out = capsys.readouterr().out
    assert "classical mlp | width=4:" in out and "classical mlp | width=5:" in out


def test_series_also_split_by_measurement_settings():
    rows = [{"family": "classical", "name": "tower", "scanned": ["depth"], "knobs": {"depth": d}, "params": p,
             "method": "sample", "n_samples": 8, "variance": 4.0 ** -d, "ci": (0, 1), "se": 0.1 * 4.0 ** -d}
            for d in (1, 2, 3) for p in ("first", "all")]
    series = panels(rows)["classical tower"]
    assert sorted(series) == ["params=all", "params=first"]
    assert all(len(points) == 3 and abs(fit.base - 4.0) < 1e-9 for points, fit in series.values())


def test_plot_reads_a_store_it_cannot_write():
    # As root this runs as user nobody (tests/sweep/permissions.py); the figure goes to a writable folder.
    import matplotlib.pyplot  # noqa: F401 - imported before the fork (see permissions.py)

    import qcgrad.plot  # noqa: F401

    with shared_folder() as folder, shared_folder() as out:
        store = folder / "r.sqlite"
        _sweep(folder, _config(4), store)
        (folder / "c0.toml").unlink()
        read_only(folder)
        out.chmod(0o777)
        result = unprivileged(lambda: main(["plot", str(store), "--out", str(out / "f.png")]))
        assert result == {"value": "0"} and (out / "f.png").stat().st_size > 0
