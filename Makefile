# Two commands for a newcomer: `make chat` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# torch comes first and pinned: left to the resolver it drags in several GB of CUDA wheels.
TORCH := torch==2.13.0
PYTEST_ARGS ?=
# Two test processes (pytest-xdist): most tests wait on fake servers and subprocesses, so two
# halve the suite's wall time on 2 cores. PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 2

.PHONY: install chat test test-fast bench eval lint format run-telegram run-discord run-all clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check $(TORCH)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

chat: $(STAMP)
	$(BIN)/python -m bot console

test: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -m "not slow" $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench

eval: $(STAMP)
	$(BIN)/python -m bench.eval

lint: $(STAMP)
	$(BIN)/mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

run-telegram: $(STAMP)
	$(BIN)/python -m bot telegram

run-discord: $(STAMP)
	$(BIN)/python -m bot discord

run-all: $(STAMP)
	$(BIN)/python -m bot all

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
