# Two entry points for a new machine: `make demo` and `make test`.
# Each creates .venv (Python >= 3.11) and installs the project with what it needs.

PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/locdetect-worker local --demo

test: $(BIN)/.installed lint
	$(BIN)/pytest -ra

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint cloudformation/*.yaml

clean:
	rm -rf $(VENV) local-data bench-out .pytest_cache
