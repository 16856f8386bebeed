# Two commands on a fresh clone (Python 3.11+ only):
#   make run    - install into .venv and open the rotation workbench on the embedded snapshot
#   make test   - install into .venv and run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-all lint typecheck bench snapshot clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("rotation needs Python 3.11 or newer; set PYTHON=python3.11") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/rotation

# One test process per core (pytest-xdist); the long end-to-end runs marked slow only in test-all.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto -m "not slow"

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -n auto

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/bench_data.py
	$(BIN)/python benchmarks/bench_cli.py
	$(BIN)/python benchmarks/bench_screener.py
	$(BIN)/python benchmarks/bench_optimizer.py
	$(BIN)/python benchmarks/bench_export.py
	$(BIN)/python benchmarks/bench_tui.py
	$(BIN)/python benchmarks/bench_backtest.py
	$(BIN)/python benchmarks/bench_thesis.py

# Maintainers only: rebuild the embedded snapshot from the raw data (not needed to use the tool).
snapshot: $(STAMP)
	$(BIN)/python -m universes.build_snapshot --source ../shared/data

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
