"""dbt on the configured target, holding the hot store's writer lock.

- ``python -m lnhm.transform build``: ``make transform`` (every 5 minutes): models, snapshot
  and data tests (unit tests run in CI); the seeds and views too when the code that built them
  changed (lnhm.deployed_code);
- ``python -m lnhm.transform freshness``: ``make freshness``;
- ``python -m lnhm.transform dbt <dbt arguments>``: ``make dbt ARGS="build --select my_model+"``,
  the analysts' front door: any dbt command, under the same lock, so a concurrent ``make ingest``
  waits instead of failing on DuckDB's file lock.

dbt runs as a subprocess with no per-run ``--vars``, so partial parsing stays warm between the
per-minute runs. Commands that read the raw tables first check that they exist, so an empty
warehouse is one line ("run make ingest first"), not a page of dbt errors.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from lnhm import deployed_code
from lnhm import settings as settings_module
from lnhm.hotstore import missing_raw_tables
from lnhm.joblog import JobFailed, run_job
from lnhm.locking import writer_lock

ROOT = Path(__file__).resolve().parents[1]
# dbt commands that read the raw tables (or, on DuckDB, would create an empty hot store file)
READS_RAW = {"build", "run", "test", "snapshot", "source", "seed", "show", "docs"}
# The scheduled build runs the models and their data tests; unit tests check the SQL, not the
# data, so they run in CI (`make test`) and in an analyst's `make dbt ARGS=build`, not every 5 min.
# So do the data tests of the seeds (seeds/_seeds.yml): a seed's rows change only with the code,
# so a test of them that passed in CI passes every 5 minutes too.
# dbt's file log stays at info (a line per node, every warning and error): the debug level's copy
# of every statement cost 0.5 s of a 50-plant build's 9 s (`make dbt` keeps dbt's own default).
# --indirect-selection empty: an exclusion leaves out only the nodes it names. Under dbt's
# default it also dropped every test touching what it names: excluding path:seeds dropped the
# data tests of models that reference a seed (fct_incidents.kind in incident_kinds, say), and
# leaving out a view would leave out the view's tests.
FILE_LOG = ["--log-level-file", "info"]
FULL_BUILD = [
    "build",
    "--exclude-resource-type",
    "unit_test",
    "--indirect-selection",
    "empty",
    "--exclude",
    "resource_type:test,path:seeds",
    *FILE_LOG,
]
# Seeds, views and the dimensions made from seeds alone (tag changes_with_code) change only with
# the code: once the hot store holds them as this code builds them (lnhm.deployed_code), the
# scheduled build leaves them out (selectors.yml: scheduled, which says which views it still
# builds). Their data tests still run, and dbt still orders each test after the models it reads
# through a view that is left out.
SCHEDULED_BUILD = ["build", "--selector", "scheduled", "--indirect-selection", "empty", *FILE_LOG]
# dbt commands that can change a relation: such a `make dbt` clears the deployed-code record
# first, so that the next scheduled build rebuilds the seeds and views
WRITES_RELATIONS = {"build", "run", "seed", "snapshot", "run-operation", "clone", "retry"}
# PostgreSQL JIT-compiles a query whose estimated cost is high, and the planner estimates the
# marts' windowed queries at millions of times the rows they touch: it spent 1.7 s compiling
# each of the three largest models, more than it saved (the scheduled build at 1,000 plants x
# 48 h took 38.4 s with JIT, 34.8 s without). libpq's PGOPTIONS reaches every connection dbt
# opens, tests included; ours comes first, so that an operator's own -c jit=on still wins.
POSTGRES_OPTIONS = "-c jit=off"


def dbt_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment dbt runs in: the caller's, no usage tracking, PostgreSQL's JIT off."""
    options = f"{POSTGRES_OPTIONS} {environ.get('PGOPTIONS', '')}".strip()
    return {**environ, "DO_NOT_TRACK": "1", "PGOPTIONS": options}


def dbt_command(args: list[str], target: str) -> list[str]:
    dbt = Path(sys.executable).with_name("dbt")
    return [str(dbt), *args, "--profiles-dir", str(ROOT), "--target", target]


def _results(target_path: Path, args: list[str], since: float) -> collections.Counter:
    """Node statuses of this run (dbt's results file, if this run wrote one)."""
    results_file = target_path / ("sources.json" if args[0] == "source" else "run_results.json")
    if not results_file.exists() or results_file.stat().st_mtime < since:
        return collections.Counter()
    results = json.loads(results_file.read_text()).get("results", [])
    return collections.Counter(str(r.get("status")) for r in results)


def run_dbt(args: list[str], counts: dict) -> None:
    """Run dbt with `args` under the writer lock; a command that can change a relation clears
    the deployed-code record first (the next scheduled build builds every node)."""
    settings = settings_module.load()
    with writer_lock(settings, job=f"dbt {' '.join(args)}"):
        if args[0] in READS_RAW:
            _check_raw(settings)
        if args[0] in WRITES_RELATIONS:
            deployed_code.record(settings, None)
        _dbt(settings, args, counts)


def scheduled_build(counts: dict) -> None:
    """`make transform`: the scheduled build, or every node if the hot store's seeds and views
    were built from other code (or were never recorded). The record is cleared before a build
    of every node (a build killed half-way leaves none) and written when it succeeds; a
    scheduled build in which a node could not run clears it too (a view may be missing),
    while data tests that found bad rows leave it."""
    settings = settings_module.load()
    with writer_lock(settings, job="dbt build"):
        _check_raw(settings)
        code = deployed_code.fingerprint(os.environ, settings.dbt_target)
        deployed = deployed_code.recorded(settings) == code
        counts["built"] = "scheduled" if deployed else "every node"
        if deployed:
            try:
                _dbt(settings, SCHEDULED_BUILD, counts)
            except JobFailed:
                # counts holds this run's node statuses from dbt's results: "error" is a node
                # that could not run (a model, or a test on a missing view); none at all, dbt
                # stopped before any node. Data tests that found bad rows ("fail") keep it.
                statuses = counts.keys() - {"built"}
                if "error" in statuses or not statuses:
                    deployed_code.record(settings, None)
                raise
            return
        print("the hot store's seeds and views are not this code's: building every node")
        deployed_code.record(settings, None)
        _dbt(settings, FULL_BUILD, counts)
        deployed_code.record(settings, code)


def _check_raw(settings) -> None:
    missing = missing_raw_tables(settings)
    if missing:
        raise JobFailed(missing)


def _dbt(settings, args: list[str], counts: dict) -> None:
    env = dbt_environment(os.environ)
    target_path = Path(env.get("DBT_TARGET_PATH", ROOT / "target"))
    started = time.time()  # a results file older than this is a previous run's
    result = subprocess.run(dbt_command(args, settings.dbt_target), cwd=ROOT, env=env, check=False)
    counts.update(_results(target_path, args, started))
    if result.returncode != 0:
        command = " ".join(args)
        raise JobFailed(f"dbt {command} exited with {result.returncode} (see dbt's log above)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lnhm.transform", description=__doc__)
    parser.add_argument("command", choices=["build", "freshness", "dbt"])
    parser.add_argument("dbt_args", nargs=argparse.REMAINDER, help="dbt arguments (dbt only)")
    args = parser.parse_args(argv)
    if args.command == "build":
        return run_job("transform", scheduled_build)
    if args.command == "freshness":
        return run_job("freshness", lambda counts: run_dbt(["source", "freshness"], counts))
    if not args.dbt_args:
        parser.error('dbt needs arguments, e.g. make dbt ARGS="build --select my_model+"')
    return run_job("dbt", lambda counts: run_dbt(args.dbt_args, counts))


if __name__ == "__main__":
    sys.exit(main())
