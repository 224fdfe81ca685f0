# Huren — the two commands a new machine needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HUREN := $(VENV)/bin/huren
STAMP := $(VENV)/.installed
# test processes: one per CPU, at most 4 (every worker uses its own schemas, prefixes and ports)
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)

.PHONY: install run test lint typecheck unit system-packages bench clean

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v '^WARNING: Location' || true
	@$(PY) -c 'import flask, authlib, sqlalchemy, idpyoidc' || { echo "install failed"; exit 1; }
	@touch $(STAMP)

# a first look: development mode (SMS codes on /dev/sms and in the log) unless told otherwise
run: export HUREN_ENVIRONMENT ?= development
run: install
	@$(HUREN) db upgrade
	@$(HUREN) demo seed
	@$(HUREN) serve

system-packages:
	@bash scripts/system-packages.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy

unit: install
	$(VENV)/bin/pytest -q -n $(TEST_WORKERS) --dist worksteal --durations=15

test: install system-packages lint typecheck unit

bench: install
	bash bench/run.sh

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
