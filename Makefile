# Developer entry points. `make run` starts the platform, `make test` runs the whole suite; both
# install what they need first (a virtualenv in .venv, and Mosquitto from Debian when missing).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast lint typecheck deps clean

$(BIN)/.installed: requirements.txt requirements-dev.txt scripts/bootstrap.sh
	PYTHON=$(PYTHON) bash scripts/bootstrap.sh
	touch $@

deps: $(BIN)/.installed

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
