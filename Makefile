# Developer entry points. `make run` starts the platform; `make lint typecheck test` is what CI
# runs. Every target installs what it needs first: `make deps` runs scripts/bootstrap.sh (Debian
# packages when missing, one virtualenv per requirements file, reinstalled only when it changed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run demo test test-fast lint typecheck deps clean

deps:
	@PYTHON=$(PYTHON) bash scripts/bootstrap.sh

run: deps
	$(BIN)/python -m emulator

demo: deps  # the platform with a simulated fleet (--demo-devices, --demo-interval to change it)
	$(BIN)/python -m emulator --demo

test: deps
	$(BIN)/python -m pytest

# Starts no process: tests that do are marked `process` (tests/support/tiers.py) and the guard
# STRATUS_TEST_TIER=fast turns any unmarked process start into a failure naming the test.
test-fast: deps
	STRATUS_TEST_TIER=fast $(BIN)/python -m pytest -m "not e2e and not load and not process"

lint: deps
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

typecheck: deps
	$(BIN)/mypy

clean:
	rm -rf .stratus .pytest_cache .mypy_cache .ruff_cache
