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
ARGS ?=
LNHM_WAREHOUSE ?= duckdb

export LNHM_WAREHOUSE
export RUNTIME__DLTHUB_TELEMETRY ?= false
export DO_NOT_TRACK ?= 1
export PYTHONDONTWRITEBYTECODE ?= 1
# the jobs, tests and benchmarks import the project's folders (lnhm, ingest, ...) from here
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

.PHONY: help install setup-test run simulate ingest backfill transform freshness dbt docs archive \
	archive-repair \
	reports alerts digest ops-check lint format test bench clean harness

# A scheduled job's exit status as cron and ECS see it (through make): 0 = done, or skipped
# because another writer held the lock (exit 75: the next run simply tries again; the JSON line
# says "skipped"); non-zero (make's 2, with "Error 1" or "Error 2" naming the job's own code)
# = failed or invalid configuration.
define job
	@$(PY) -m $(1) || { status=$$?; [ $$status -eq 75 ] || exit $$status; }
endef

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

# The harness (simulator, backfill, demo) is in the checkout, not in the container image.
harness:
	@test -d harness || { echo "make: this target needs the checkout's harness/ (not in the image)" >&2; exit 2; }

run: install harness ## The main job on the embedded default, in data/demo/: simulator -> backfill -> dbt -> archive -> reports
	@$(PY) -m harness.demo --hours $(HOURS)

simulate: install harness ## Run the plants API simulator (options: SIM_ARGS="--port 8000 --plants 500 --latency realistic")
	$(PY) -m harness.simulator $(SIM_ARGS)

ingest: install ## Poll every plant once and load raw readings and failures (every minute)
	$(call job,ingest poll)

backfill: install harness ## Load HOURS (default 48) of simulated minutely history, fast
	$(call job,harness.backfill --hours $(HOURS))

transform: install ## dbt build (staging, intermediate, marts, tests) on LNHM_WAREHOUSE
	$(call job,lnhm.transform build)

freshness: install ## dbt source freshness of the raw tables
	$(call job,lnhm.transform freshness)

dbt: install ## Any dbt command under the writer lock: make dbt ARGS="build --select my_model+"
	$(PY) -m lnhm.transform dbt $(ARGS)

docs: install ## Generate the dbt docs site (open target/static_index.html, works from disk)
	$(PY) -m lnhm.transform dbt docs generate --static

archive: install ## Move whole days older than the retention to Parquet and prune the hot store (daily)
	$(call job,archive)

archive-repair: install ## Rebuild the archive's manifest.json from its Parquet files (when make archive says so)
	$(call job,archive.repair)

reports: install ## Write the static report site to LNHM_REPORTS_DIR (every 5 minutes, after transform)
	$(call job,reports)

alerts: install ## E-mail botanists about new and ended incidents (after each transform)
	$(call job,alerts)

digest: install ## Send each botanist a daily digest of their plants
	$(call job,alerts digest)

ops-check: install ## Operator alerts: store capacity, failing ingest, stale archive and sources
	$(call job,alerts ops)

lint: install ## ruff (Python) and sqlfluff (SQL)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint models macros snapshots data_tests analyses reports/queries --processes 2

format: install ## Fix what ruff and sqlfluff can fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/sqlfluff fix models macros snapshots data_tests analyses reports/queries --processes 2

# Two workers, a test file each: most tests wait on subprocesses, servers and locks, so two
# files at a time fit 2 cores (15 min instead of 25); TEST_WORKERS=0 runs them one by one.
# Files go to the workers in collection order, the slowest first (tests/conftest.py), not
# pytest-xdist's default of the files with the most tests first.
TEST_WORKERS ?= 2

test: setup-test lint ## Lint, then the whole test suite against real PostgreSQL, S3 (moto) and Chromium (TEST_WORKERS, 2)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=25

bench: setup-test ## Benchmarks (comparisons measured side by side; not tests)
	@for bench in bench/bench_*.py; do echo "== $$bench"; $(PY) $$bench || exit 1; done

# Only what can be regenerated: never data/ (the default hot store and the archive, the only
# copy of pruned days), logs/ (cron appends to it), the report site or a configured location.
CLEAN := target dbt_packages .pytest_cache .ruff_cache build/test-artifacts data/demo

clean: ## Remove what can be regenerated: dbt artefacts, caches, test artefacts, the demo folder (data/demo)
	@for path in $(CLEAN); do \
		keep=""; \
		for configured in "$$LNHM_DUCKDB_PATH" "$$LNHM_ARCHIVE_URL" "$$LNHM_REPORTS_DIR" \
			"$$LNHM_OUTBOX_DIR" "$$DLT_DATA_DIR"; do \
			[ -n "$$configured" ] || continue; \
			case "$$(realpath -m "$$configured")/" in \
				"$$(realpath -m "$$path")"/*) keep="$$configured";; \
			esac; \
		done; \
		if [ -n "$$keep" ]; then echo "clean: keeping $$path: it holds the configured $$keep"; \
		elif [ -e "$$path" ]; then echo "clean: removing $$path"; rm -rf "$$path"; fi; \
	done
	@find . -path ./.venv -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
