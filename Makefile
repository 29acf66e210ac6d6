# The two ways in: `make demo` and `make test`. Both build .venv from nothing but Python.
PYTHON ?= python3
VENV   ?= .venv
TORCH  ?= torch==2.13.0
BIN    := $(VENV)/bin
PYTEST_ARGS ?= -n 2

.PHONY: demo test bench clean

# torch first and pinned: a bare `torch>=2.3` resolves to a multi-GB CUDA build here.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q "$(TORCH)"

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/qcgrad compare --out results/compare

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_gradvar.py --out benchmarks/results
	$(BIN)/python benchmarks/bench_classical.py --out benchmarks/results
	$(BIN)/python benchmarks/bench_train.py --out benchmarks/results

clean:
	rm -rf $(VENV) results .pytest_cache
