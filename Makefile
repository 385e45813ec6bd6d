# Two entry points for a fresh machine: `make demo` and `make test`.
# Each creates .venv on first use and installs the project with pinned torch (CPU build).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint typecheck install bench clean

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/genrebot demo $(ARGS)

lint: install
	$(BIN)/ruff check .

# Every package and the entry point; tests/ may stay looser.
typecheck: install
	$(BIN)/mypy bot classifier training storage sandbox music bench cli_errors.py genrebot_cli.py

test: lint typecheck
	$(BIN)/pytest -q

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
