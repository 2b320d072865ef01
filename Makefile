# Everyday tasks. `make run` and `make test` work on a fresh machine: they create .venv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: dev install run test test-fast lint fmt typecheck migrate bench audit clean

$(STAMP): setup.cfg pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[postgres,test,dev]'
	touch $(STAMP)

install: $(STAMP)

dev: install

## run: migrate the embedded SQLite database, seed the demo, start every app of the demo
run: install
	$(BIN)/python -m devtools.devrun

## test: the whole suite (SQLite + embedded store always; PostgreSQL + Redis when TEST_* are set)
test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not browser and not node" -x -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy idp legacy_redirect training_rp national_source

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy idp legacy_redirect training_rp national_source

migrate: install
	$(BIN)/idp db upgrade

## bench: the IdP as in production (gunicorn, 2 workers, PostgreSQL + Redis) under wrk
bench: install
	bash bench/run.sh

audit: install
	$(BIN)/pip-audit -r constraints.txt --strict || true

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
