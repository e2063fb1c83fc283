# cmpkg: `make serve` and `make test` work on a fresh machine; everything else is a step of those.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: venv data check-data build validate serve lint format test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

## Regenerate the generated data files (plans, countries) from data/source/.
data: venv
	$(BIN)/cmpkg generate

check-data: venv
	$(BIN)/cmpkg generate --check
	$(BIN)/cmpkg fmt --check

build: venv check-data
	$(BIN)/cmpkg build

validate: venv
	$(BIN)/cmpkg validate

serve: build validate
	$(BIN)/cmpkg serve --host $(HOST) --port $(PORT)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/cmpkg fmt

test: lint
	$(BIN)/python -m pytest

bench: venv
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
