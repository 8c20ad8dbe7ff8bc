# The two commands of the README:
#   make run   – install everything, create the SQLite database in instance/, load demo data, start the portal
#   make test  – install the test dependencies (system packages too) and run the whole suite
# Every target is safe to run again.

SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app portal
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian packages: WeasyPrint's Pango and fonts, Node for the npm packages; for tests also Chromium,
# poppler-utils (pdfsig, pdftoppm), qpdf, SoftHSM2 with OpenSC's pkcs11-tool for the PKCS#11 tests, and
# Redis for the job queue's tests (tests/test_jobs.py; the portal itself runs without it).
RUN_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
TEST_PACKAGES := $(RUN_PACKAGES) chromium poppler-utils qpdf softhsm2 opensc redis-server
# Node and npm count as present when the commands are, whichever way they were installed.
NODE_PACKAGES := $(if $(shell command -v npm),,nodejs npm)

.PHONY: run setup test test-setup redis worker system-packages test-system-packages python-packages node-packages translations database demo schema bench bench-instructions bench-prerequisites clean

run: setup
	$(FLASK) run --host 127.0.0.1 --port 5000

setup: system-packages python-packages node-packages translations database demo

# On SQLite (TEST_DATABASE_URL taken out: left in, it made both runs PostgreSQL) and, with
# TEST_DATABASE_URL set, on it too: the two runs at once, one a core (much of each run waits on workers,
# browsers and services), each line marked with its database; fails if either fails. The runs share
# nothing that collides: each has its own tmp folders, database and free ports, and each test its own Redis queue.
test: test-setup
	@if [ -z "$$TEST_DATABASE_URL" ]; then exec env -u TEST_DATABASE_URL $(VENV)/bin/pytest; fi; \
	echo "== The suite on SQLite and, at the same time, on $$TEST_DATABASE_URL"; \
	set -o pipefail; \
	{ env -u TEST_DATABASE_URL $(VENV)/bin/pytest 2>&1 | sed -u 's/^/[sqlite] /'; } & sqlite=$$!; \
	{ $(VENV)/bin/pytest -p no:cacheprovider 2>&1 | sed -u 's/^/[postgresql] /'; } & postgresql=$$!; \
	wait $$sqlite; sqlite_status=$$?; wait $$postgresql; postgresql_status=$$?; \
	echo "== SQLite run: exit status $$sqlite_status; PostgreSQL run: exit status $$postgresql_status"; \
	[ $$sqlite_status -eq 0 ] && [ $$postgresql_status -eq 0 ]

test-setup: test-system-packages python-packages node-packages translations redis

# Redis on 127.0.0.1:6379 for the job queue, started unless one answers already (no disk persistence).
redis:
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { \
	  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no && \
	  for _ in $$(seq 1 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done; }

# A worker for the background jobs, for `make run` with REDIS_URL set (see README: Background jobs).
worker: python-packages translations redis
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} $(FLASK) worker

define install_missing
	@missing=$$(for package in $(1); do dpkg -s $$package >/dev/null 2>&1 || echo $$package; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

system-packages:
	$(call install_missing,$(RUN_PACKAGES) $(NODE_PACKAGES))

test-system-packages:
	$(call install_missing,$(TEST_PACKAGES) $(NODE_PACKAGES))

$(VENV)/bin/python:
	python3 -m venv $(VENV)

python-packages: $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e ".[test]"

node-packages:
	npm ci --no-audit --no-fund --loglevel=error

translations:
	$(VENV)/bin/pybabel compile --use-fuzzy -d portal/translations

database:
	$(FLASK) db upgrade

demo:
	$(FLASK) demo

# Regenerate the initial migration from the models (while the schema has not been released yet).
schema:
	rm -f migrations/versions/*.py /tmp/politirad-schema.sqlite3
	DATABASE_URL=sqlite:////tmp/politirad-schema.sqlite3 $(FLASK) db migrate -m "initial schema" --rev-id 0001
	rm -f /tmp/politirad-schema.sqlite3

# wrk loads the pages under gunicorn in tests/bench/bench_pages.py; valgrind counts instructions in
# tests/bench/bench_instructions.py.
BENCH_PACKAGES := wrk valgrind

bench-prerequisites: test-setup
	$(call install_missing,$(BENCH_PACKAGES))

bench: bench-prerequisites redis
	$(PYTHON) -m tests.bench.bench_render
	$(PYTHON) -m tests.bench.bench_signing
	$(PYTHON) -m tests.bench.bench_browser_signing
	$(PYTHON) -m tests.bench.bench_chain
	$(PYTHON) -m tests.bench.bench_verify
	$(PYTHON) -m tests.bench.bench_timestamp_renewal
	$(PYTHON) -m tests.bench.bench_pages
	$(PYTHON) -m tests.bench.bench_sign_in
	$(PYTHON) -m tests.bench.bench_concurrent_saves
	@if [ -n "$$TEST_DATABASE_URL" ]; then $(PYTHON) -m tests.bench.bench_concurrent_saves --database "$$TEST_DATABASE_URL"; fi
	$(PYTHON) -m tests.bench.bench_instructions

# The chain in instructions (callgrind): the same from run to run, where CPU time on a shared machine is not.
bench-instructions: bench-prerequisites redis
	$(PYTHON) -m tests.bench.bench_instructions

clean:
	rm -rf $(VENV) node_modules
