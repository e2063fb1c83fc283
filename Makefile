# cmpkg: `make serve` and `make test` work on a fresh machine; everything else is a step of those.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: venv data check-data build validate serve lint format test bench clean assets

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

## Front-end assets cmpkg serves itself (no CDN): YASGUI from the npm registry, as frontend/package-lock.json
## pins it, installed with `npm ci` under build/frontend/ and copied to publisher/static/vendor/ (git-ignored).
VENDOR := publisher/static/vendor
ASSETS_STAMP := $(VENDOR)/.installed-stamp
YASGUI_DIST := build/frontend/node_modules/@zazuko/yasgui/build

$(ASSETS_STAMP): frontend/package.json frontend/package-lock.json
	rm -rf build/frontend $(VENDOR)/yasgui
	mkdir -p build/frontend $(VENDOR)/yasgui
	cp frontend/package.json frontend/package-lock.json build/frontend/
	npm ci --prefix build/frontend --ignore-scripts --no-audit --no-fund --loglevel=error
	cp $(YASGUI_DIST)/yasgui.min.js $(YASGUI_DIST)/yasgui.min.js.map $(YASGUI_DIST)/yasgui.min.css $(VENDOR)/yasgui/
	touch $@

assets: $(ASSETS_STAMP)

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

serve: build validate assets
	$(BIN)/cmpkg serve --host $(HOST) --port $(PORT)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/cmpkg fmt

test: lint assets
	$(BIN)/python -m pytest

bench: venv
	@command -v wrk >/dev/null || { echo "make bench: the load generator wrk is missing (entity pages); install it: apt-get install wrk" >&2; exit 1; }
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info $(VENDOR) build/frontend
