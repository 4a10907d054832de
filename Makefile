# The front door. Every scheduled job is one target; cron and ECS call these, never deeper paths.
# `make help` lists the targets. Configuration is environment variables (see README.md).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
HOURS ?= 48
SIM_ARGS ?=
LNHM_WAREHOUSE ?= duckdb
DBT := $(BIN)/dbt
DBT_FLAGS := --profiles-dir . --target $(LNHM_WAREHOUSE)

export LNHM_WAREHOUSE
export RUNTIME__DLTHUB_TELEMETRY ?= false
export DO_NOT_TRACK ?= 1
export PYTHONDONTWRITEBYTECODE ?= 1
# the jobs, tests and benchmarks import the project's folders (lnhm, ingest, ...) from here
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

.PHONY: help install setup-test run simulate ingest backfill transform freshness docs archive \
	reports alerts digest ops-check lint format test bench clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-12s\033[0m %s\n", $$1, $$2}' \
		$(MAKEFILE_LIST)

# The venv is created once; later dependency changes reinstall into it (never recreate it with
# whatever python3 a cron PATH happens to find).
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet '.[dev]'
	touch $@

install: $(VENV)/.installed ## Create .venv and install the pinned dependencies

setup-test: install ## Install what the tests need from Debian (PostgreSQL 15, Chromium + driver, Java)
	@missing=""; \
	[ -x /usr/lib/postgresql/15/bin/initdb ] || missing="$$missing postgresql-15"; \
	command -v psql >/dev/null || missing="$$missing postgresql-client-15"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -x /usr/bin/chromedriver ] || missing="$$missing chromium-driver"; \
	command -v java >/dev/null || missing="$$missing default-jre-headless"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

run: install ## The main job on the embedded default: simulator -> backfill -> dbt -> archive -> reports
	$(PY) -m harness.demo --hours $(HOURS)

simulate: install ## Run the plants API simulator (options: SIM_ARGS="--plants 500 --latency realistic")
	$(PY) -m harness.simulator $(SIM_ARGS)

ingest: install ## Poll every plant once and load raw readings and failures (every minute)
	$(PY) -m ingest poll

backfill: install ## Load HOURS (default 48) of simulated minutely history, fast
	$(PY) -m harness.backfill --hours $(HOURS)

transform: install ## dbt build (staging, intermediate, marts, tests) on LNHM_WAREHOUSE
	$(PY) -m lnhm.transform build

freshness: install ## dbt source freshness of the raw tables
	$(PY) -m lnhm.transform freshness

docs: install ## Generate the dbt docs site (open target/static_index.html, works from disk)
	$(DBT) docs generate $(DBT_FLAGS) --static

archive: install ## Move whole days older than the retention to Parquet and prune the hot store (daily)
	$(PY) -m archive

reports: install ## Write the static report site to LNHM_REPORTS_DIR (hourly)
	$(PY) -m reports

alerts: install ## E-mail botanists about new and ended incidents (after each transform)
	$(PY) -m alerts

digest: install ## Send each botanist a daily digest of their plants
	$(PY) -m alerts digest

ops-check: install ## Operator alerts: store capacity, failing ingest, stale archive and sources
	$(PY) -m alerts ops

lint: install ## ruff (Python) and sqlfluff (SQL)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint models macros snapshots tests/dbt analyses reports/queries --processes 2

format: install ## Fix what ruff and sqlfluff can fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/sqlfluff fix models macros snapshots tests/dbt analyses reports/queries --processes 2

test: setup-test lint ## Lint, then the whole test suite against real PostgreSQL, S3 (moto) and Chromium
	$(BIN)/pytest

bench: setup-test ## Benchmarks (comparisons measured side by side; not tests)
	@for bench in bench/bench_*.py; do echo "== $$bench"; $(PY) $$bench || exit 1; done

clean: ## Remove generated data, reports and dbt artefacts (keeps .venv)
	rm -rf data build target logs dbt_packages .pytest_cache
