# Sagspost developer and CI tasks (GNU make). `make help` lists the targets.
#
# Runs as root or as a user with sudo on Debian 12 with Python 3.11 at `python3`; a fresh machine
# needs nothing else: `make test` makes the virtualenv and installs the Debian packages it needs.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
HTTPS_PORT ?= 3000
BENCH_ARGS ?=

# PostgreSQL for `make test-pg`: the machine's own server (trust auth); the test conftest creates
# and drops a fresh schema in this database per run.
PG_HOST ?= 127.0.0.1
PG_PORT ?= 5432
PG_URL ?= postgresql+psycopg://postgres@$(PG_HOST):$(PG_PORT)/test

# Debian packages the tests need. Add to this list (one per line) as features need more tools.
# Installed without recommended packages: name any extra (fonts, say) explicitly here.
SYSTEM_PACKAGES := \
	slapd \
	ldap-utils \
	libreoffice-writer-nogui \
	libreoffice-calc-nogui \
	python3-uno \
	chromium \
	fonts-dejavu-core \
	fonts-liberation2 \
	fonts-crosextra-carlito \
	fonts-crosextra-caladea

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_NO_INPUT := 1

.PHONY: help venv system-deps run run-https addin-deps test test-pg postgres bench migration clean

help:
	@echo "make run          migrate ./var, then serve on http://$(HOST):$(PORT) with a worker and the Digital Post simulator"
	@echo "make run-https    like run, over https://localhost:$(HTTPS_PORT) with a self-signed certificate (for the Office add-in)"
	@echo "make test         run the whole test suite (SQLite) and the add-in's Node tests; PYTEST_ARGS='-k name -x' passes options"
	@echo "make test-pg      run the test suite against PostgreSQL ($(PG_URL))"
	@echo "make bench        run the benchmarks (bench/run.py)"
	@echo "make migration MESSAGE='what changed'   autogenerate an Alembic revision from the models"
	@echo "make venv         create .venv and install the project with its test extras"
	@echo "make system-deps  install the Debian packages the tests need ($(strip $(SYSTEM_PACKAGES)))"
	@echo "make clean        remove .venv and caches (keeps ./var, the local database)"

# --- Python environment ---------------------------------------------------------------------------

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-installs only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --quiet -e '.[test]'
	@touch $@

venv: $(STAMP)

# --- Debian packages ------------------------------------------------------------------------------

system-deps:
	@missing=""; \
	for pkg in $(SYSTEM_PACKAGES); do \
		status=$$(dpkg-query -W -f='$${Status}' "$$pkg" 2>/dev/null || true); \
		[ "$$status" = "install ok installed" ] || missing="$$missing $$pkg"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then \
		echo "Missing system packages:$$missing (no apt-get here: install them by hand)" >&2; exit 1; \
	fi; \
	echo "Installing system packages:$$missing"; \
	if ! $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; then \
		echo "Install failed; refreshing the package lists and trying again"; \
		$(SUDO) apt-get update -qq; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# --- Running --------------------------------------------------------------------------------------

run: venv system-deps addin-deps
	$(BIN)/sagspost init
	exec $(BIN)/sagspost run --host $(HOST) --port $(PORT)

# Office requires add-ins over HTTPS: the app with a certificate made once in ./var/tls, Office.js
# from the npm package; the worker and the Digital Post simulator beside it stop with it.
run-https: venv system-deps addin-deps
	$(BIN)/sagspost init
	SAGSPOST_ADDIN_OFFICE_JS=local $(BIN)/sagspost worker & worker=$$!; \
	$(BIN)/sagspost simulator & simulator=$$!; \
	trap 'kill $$worker $$simulator' EXIT; \
	SAGSPOST_ADDIN_OFFICE_JS=local $(BIN)/sagspost serve-https --port $(HTTPS_PORT)

# --- Office add-in (addin/) -----------------------------------------------------------------------

# Office.js, MSAL.js and office-addin-mock from the npm registry, exactly as locked.
addin/node_modules/.package-lock.json: addin/package.json addin/package-lock.json
	cd addin && npm ci --no-audit --no-fund --loglevel=error

addin-deps: addin/node_modules/.package-lock.json

# --- Tests ----------------------------------------------------------------------------------------

# `make test` is always the SQLite run, whatever SAGSPOST_DATABASE_URL the shell has.
test: venv system-deps addin-deps
	cd addin && npm test --silent
	env -u SAGSPOST_DATABASE_URL $(BIN)/pytest $(PYTEST_ARGS)

test-pg: venv system-deps addin-deps postgres
	SAGSPOST_DATABASE_URL='$(PG_URL)' $(BIN)/pytest $(PYTEST_ARGS)

# The machine starts PostgreSQL before a session; start the local cluster if it is not answering.
postgres:
	@if command -v pg_isready >/dev/null && ! pg_isready -q -h $(PG_HOST) -p $(PG_PORT); then \
		if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then \
			echo "Starting PostgreSQL"; \
			$(SUDO) pg_ctlcluster --skip-systemctl-redirect "$$(ls /etc/postgresql | sort -V | tail -n1)" main start; \
		fi; \
		for i in $$(seq 1 30); do pg_isready -q -h $(PG_HOST) -p $(PG_PORT) && exit 0; sleep 1; done; \
		echo "PostgreSQL does not answer on $(PG_HOST):$(PG_PORT)" >&2; exit 1; \
	fi

bench: venv postgres
	SAGSPOST_DATABASE_URL='$(PG_URL)' $(BIN)/python bench/run.py $(BENCH_ARGS)

# --- Schema migrations ----------------------------------------------------------------------------

# Autogenerates server/migrations/versions/<rev>_<slug>.py: upgrades a throw-away SQLite database
# to the current head, then lets Alembic compare it with the models. Review the file before commit.
export MESSAGE
migration: venv
	@test -n "$${MESSAGE:-}" || { echo "usage: make migration MESSAGE='add case notes'" >&2; exit 2; }
	$(BIN)/python -c 'import os, sys, tempfile; \
	from alembic import command; \
	from server.db import make_engine; \
	from server.migrate import alembic_config, upgrade; \
	tmp = tempfile.TemporaryDirectory(); \
	url = "sqlite:///" + os.path.join(tmp.name, "migration.db"); \
	engine = make_engine(url); upgrade(engine); engine.dispose(); \
	command.revision(alembic_config(url), message=os.environ["MESSAGE"], autogenerate=True); \
	tmp.cleanup()'

# --- Housekeeping ---------------------------------------------------------------------------------

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
	find . -path ./var -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
