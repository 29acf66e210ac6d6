# The two ways in: `make demo` and `make test`. Both build .venv from nothing but Python.
PYTHON ?= python3
VENV   ?= .venv
TORCH  ?= torch==2.13.0
BIN    := $(VENV)/bin
PYTEST_ARGS ?= -n 2

.PHONY: demo test check lint typecheck wheel docs docs-full bench mutation clean

# torch first and pinned: a bare `torch>=2.3` resolves to a multi-GB CUDA build here.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q "$(TORCH)"

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e ".[test,docs]"
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-test
	$(BIN)/python -m pip install -q -e ".[test,docs,dev]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/qcgrad compare --out results/compare

# The tests (studies in --quick mode among them), then the docs with warnings as errors.
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	QCGRAD_DOCS_QUICK=1 $(BIN)/sphinx-build -q -W --keep-going -b html docs docs/_build/html

# Lint, types, and the built wheel installed and run outside the checkout.
check: lint typecheck wheel

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check qcgrad tests benchmarks studies tools docs

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

wheel: $(VENV)/.installed-dev
	PYTHON=$(PYTHON) TORCH="$(TORCH)" BIN=$(BIN) tools/wheel_smoke.sh

# The docs with every study executed in full mode (what the published site shows).
docs-full: $(VENV)/.installed-test
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_gradvar.py --out benchmarks/results
	$(BIN)/python benchmarks/bench_classical.py --out benchmarks/results
	$(BIN)/python benchmarks/bench_train.py --out benchmarks/results

# Mutation testing of the core (not in CI): score written to benchmarks/results/mutation.json.
mutation: $(VENV)/.installed-dev
	$(BIN)/python tools/mutation.py --out benchmarks/results/mutation.json

clean:
	rm -rf $(VENV) results .pytest_cache dist mutants docs/_build docs/auto_studies docs/generated docs/_generated docs/api.rst docs/sg_execution_times.rst
