# Developer entry points. `make run` starts the platform; `make lint typecheck test` is what CI
# runs. Every target installs what it needs first: `make deps` runs scripts/bootstrap.sh (Debian
# packages when missing, one virtualenv per requirements file, reinstalled only when it changed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast lint typecheck deps clean

deps:
	@PYTHON=$(PYTHON) bash scripts/bootstrap.sh

run: deps
	$(BIN)/python -m emulator

test: deps
	$(BIN)/python -m pytest

test-fast: deps
	$(BIN)/python -m pytest -m "not e2e and not load"

lint: deps
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

typecheck: deps
	$(BIN)/mypy

clean:
	rm -rf .stratus .pytest_cache .mypy_cache .ruff_cache
