# `make run` serves the app with demo data; `make test` runs the whole suite twice, on SQLite and then on a throwaway
# PostgreSQL server (`make test-sqlite`, `make test-postgresql`: one pass). All set up what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app petitions
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=
AXE := .cache/npm/node_modules/axe-core/axe.min.js

.PHONY: run test test-sqlite test-postgresql system system-test install install-test catalogs instance db pdfkey demo serve clean

run: system install instance db pdfkey demo serve

test: test-sqlite test-postgresql

test-sqlite: system-test install-test
	time PETITIONS_TEST_DATABASE=sqlite $(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgresql: system-test install-test
	time PETITIONS_TEST_DATABASE=postgresql $(BIN)/python -m pytest $(PYTEST_ARGS)

system:
	bash scripts/install-system.sh runtime

system-test:
	bash scripts/install-system.sh test

install: $(VENV)/.installed catalogs

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

install-test: $(VENV)/.installed-test catalogs $(AXE)

# axe-core for tests/test_accessibility.py, from npm into an ignored folder (never copied into the repository);
# once installed, nothing is fetched again.
$(AXE):
	npm install --prefix .cache/npm --no-audit --no-fund --prefer-offline axe-core@4

$(VENV)/.installed-test: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(VENV)/.installed $@

# Compiled interface catalogs (.mo) are built here, never committed.
catalogs:
	$(BIN)/python -m petitions.i18n.catalogs compile

instance: install
	$(BIN)/python -m petitions.instance_setup instance

db: instance
	$(FLASK) db upgrade

pdfkey: instance
	$(FLASK) pdf keygen

demo: db
	FLASK_PUBLIC_URL=$${FLASK_PUBLIC_URL:-http://$(HOST):$(PORT)} $(FLASK) demo

serve:
	FLASK_PUBLIC_URL=$${FLASK_PUBLIC_URL:-http://$(HOST):$(PORT)} $(FLASK) run --host $(HOST) --port $(PORT)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
