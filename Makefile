# Entry points for a fresh machine: `make install` (what the bot needs to run), `make demo`,
# and `make test` (also installs the development tools: tests, lint, type checks, benchmarks).
# Each creates .venv on first use and installs the project with torch pinned (constraints.txt).
#
# TORCH_INDEX: where pip gets torch. Unset, torch comes from PyPI (or this machine's local wheel
# of the CPU build). On Linux x86_64 PyPI's torch is the CUDA build (several GB); for the CPU
# build use `make install TORCH_INDEX=https://download.pytorch.org/whl/cpu`. PyPI's macOS,
# Windows and Linux aarch64 wheels are CPU builds already.
PYTHON      ?= python3
TORCH_INDEX ?=
VENV        := .venv
BIN         := $(VENV)/bin
PIP         := $(BIN)/pip install --quiet -c constraints.txt

.PHONY: demo test lint typecheck install install-dev bench clean

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(PIP) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) torch
	$(PIP) -e .
	touch $@

$(BIN)/.installed-dev: $(BIN)/.installed
	$(PIP) -e '.[dev]'
	touch $@

# The runtime only: what a server running the bot needs.
install: $(BIN)/.installed

# The runtime plus tests, lint, type checks and benchmark tools.
install-dev: $(BIN)/.installed-dev

demo: install
	$(BIN)/genrebot demo $(ARGS)

lint: install-dev
	$(BIN)/ruff check .

# Every package, the entry point and the tests (the stand-ins are code the tests trust).
typecheck: install-dev
	$(BIN)/mypy bot classifier training storage sandbox music bench tests cli_errors.py cli_output.py genrebot_cli.py

test: lint typecheck
	$(BIN)/pytest -q

bench: install-dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
