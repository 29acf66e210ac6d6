#!/usr/bin/env bash
# Build the sdist and wheel, check their metadata, install the wheel into a fresh virtualenv and
# run qcgrad from outside the checkout, so a module or data file missing from the wheel fails here.
set -euo pipefail
PYTHON=${PYTHON:-python3}
TORCH=${TORCH:-torch==2.13.0}
BIN=${BIN:-.venv/bin}
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rm -rf dist
"$BIN/python" -m build --sdist --wheel --outdir dist . >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
"$BIN/python" -m twine check --strict dist/*

"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q "$TORCH"
"$work/venv/bin/python" -m pip install -q "$root"/dist/qcgrad-*.whl
cd "$work"
"$work/venv/bin/qcgrad" --version
"$work/venv/bin/qcgrad" list >/dev/null
"$work/venv/bin/qcgrad" variance tensor_product n_qubits=3 cost=local --json >/dev/null
"$work/venv/bin/python" - <<'PY'
import importlib, pkgutil
import qcgrad
assert "site-packages" in qcgrad.__file__, f"qcgrad was imported from {qcgrad.__file__}, not the wheel"
names = [m.name for m in pkgutil.walk_packages(qcgrad.__path__, "qcgrad.")]
for name in names:
    importlib.import_module(name)
import importlib.resources as res
assert res.files("qcgrad").joinpath("py.typed").is_file(), "py.typed is missing from the wheel"
print(f"wheel OK: qcgrad {qcgrad.__version__}, {len(names)} modules imported")
PY
