"""The Makefile as cron and ECS run it: exit status a scheduler can use, the analysts' dbt front
door under the writer lock, and a `make clean` that keeps what cannot be regenerated."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from harness.services import ROOT, free_port
from lnhm.locking import writer_lock
from lnhm.settings import from_env

FIXED_CLOCK = ("--start", "2026-11-26T00:00:00", "--speed", "1e-9")


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any of the project's own configuration."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LNHM_", "PG", "DBT_", "AWS_", "DLT_", "MAKE", "MFLAGS"))
    }  # MAKE*: under `make test` a nested make would say "make[1]: ..." and share -s, -j
    env.update(RUNTIME__DLTHUB_TELEMETRY="false", DO_NOT_TRACK="1", **extra)
    return env


def make(*args: str, env: dict, cwd: Path = ROOT, timeout: float = 600):
    return subprocess.run(
        ["make", "-s", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def job_line(result: subprocess.CompletedProcess) -> dict:
    lines = [line for line in result.stdout.splitlines() if line.startswith('{"job"')]
    assert lines, result.stdout + result.stderr
    return json.loads(lines[-1])


@pytest.fixture
def store(tmp_path) -> dict[str, str]:
    return clean_env(
        LNHM_DUCKDB_PATH=str(tmp_path / "hot.duckdb"),
        LNHM_ARCHIVE_URL=str(tmp_path / "archive"),
        LNHM_REPORTS_DIR=str(tmp_path / "site"),
        LNHM_OUTBOX_DIR=str(tmp_path / "outbox"),
        DBT_TARGET_PATH=str(tmp_path / "dbt-target"),
        DBT_LOG_PATH=str(tmp_path / "dbt-logs"),
        LNHM_HTTP_TIMEOUT="1",
    )


# ---------------------------------------------------------------- exit status through make
def test_a_skip_is_not_a_failure_through_make_and_a_failure_is(store, simulator_server):
    """Issue 10, defect 7: make turned every non-zero exit (75 too) into 2."""
    url = simulator_server("--sensor-fault-rate", "0", *FIXED_CLOCK)
    env = {**store, "LNHM_API_URL": url, "LNHM_PLANT_IDS": "1-5", "LNHM_LOCK_TIMEOUT": "1"}
    done = make("ingest", env=env)
    assert done.returncode == 0, done.stderr
    assert job_line(done)["outcome"] == "ok"

    with writer_lock(from_env(env), job="test-holder"):
        skipped = make("ingest", env=env)
    assert skipped.returncode == 0, skipped.stderr  # the scheduler sees no failure
    record = job_line(skipped)
    assert record["outcome"] == "skipped" and record["exit_code"] == 75
    assert "skipped: another job is writing" in skipped.stderr
    assert "Error" not in skipped.stderr

    failed = make("ingest", env={**env, "LNHM_API_URL": f"http://127.0.0.1:{free_port()}"})
    assert failed.returncode != 0
    assert job_line(failed)["exit_code"] == 1
    assert re.search(r"make: \*\*\* \[Makefile:\d+: ingest\] Error 1", failed.stderr), failed.stderr

    invalid = make("ingest", env={**env, "LNHM_PLANT_IDS": "1-x"})
    assert invalid.returncode != 0
    assert re.search(r"make: \*\*\* \[Makefile:\d+: ingest\] Error 2", invalid.stderr)
    assert "ingest: invalid configuration: LNHM_PLANT_IDS" in invalid.stderr


@pytest.mark.parametrize("target", ["transform", "archive", "reports", "alerts", "ops-check"])
def test_every_scheduled_target_maps_a_skip_to_success(store, target):
    """The same rule for each job cron and ECS run, each kept waiting by another writer: the
    writer locks, and a process holding the DuckDB file itself (the reports read it directly)."""
    import duckdb

    env = {**store, "LNHM_LOCK_TIMEOUT": "0.5"}
    settings = from_env(env)
    with (
        writer_lock(settings, job="test-holder"),
        writer_lock(settings, name="alerts.job", job="test-holder"),
        writer_lock(settings, name="alerts.ops", job="test-holder"),
        duckdb.connect(store["LNHM_DUCKDB_PATH"]),
    ):
        result = make(target, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert job_line(result)["outcome"] == "skipped"


# ---------------------------------------------------------------- the analysts' front door
def test_make_dbt_holds_the_writer_lock(store):
    """Issue 10, defect 5: a held lock makes `make dbt` wait, then give up clearly."""
    import duckdb

    duckdb.connect(store["LNHM_DUCKDB_PATH"]).close()
    env = {**store, "LNHM_LOCK_TIMEOUT": "1"}
    with writer_lock(from_env(env), job="test-holder"):
        started = time.monotonic()
        result = make("dbt", "ARGS=build --select stg_plants_api__readings+", env=env)
    assert time.monotonic() - started >= 1
    assert result.returncode != 0  # an analyst's command that did not run is not a success
    assert "dbt: skipped: another job is writing" in result.stderr
    assert "held by test-holder" in result.stderr
    assert job_line(result)["outcome"] == "skipped"


def test_an_ingest_during_make_dbt_waits_for_it_instead_of_failing(store, simulator_server):
    """The analyst's build and the every-minute poll at once: the poll waits, both succeed."""
    url = simulator_server("--sensor-fault-rate", "0", *FIXED_CLOCK)
    env = {**store, "LNHM_API_URL": url, "LNHM_LOCK_TIMEOUT": "300"}
    assert make("ingest", env=env).returncode == 0
    owner = Path(store["LNHM_DUCKDB_PATH"] + ".lock.owner")
    analyst = subprocess.Popen(
        ["make", "-s", "dbt", "ARGS=run --select +fct_readings"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (owner.exists() and "dbt run" in owner.read_text()):
            assert time.monotonic() < deadline and analyst.poll() is None, "dbt never took the lock"
            time.sleep(0.05)
        poll = make("ingest", env=env)
        out, err = analyst.communicate(timeout=600)
    finally:
        if analyst.poll() is None:
            analyst.kill()
    assert analyst.returncode == 0, out[-3000:] + err
    assert job_line(subprocess.CompletedProcess([], 0, out, err))["outcome"] == "ok"
    assert poll.returncode == 0, poll.stderr
    record = job_line(poll)
    assert record["outcome"] == "ok"
    assert record["counts"]["lock_wait_s"] > 0  # it queued behind the analyst's build
    built = json.loads((Path(store["DBT_TARGET_PATH"]) / "run_results.json").read_text())
    names = {r["unique_id"].split(".")[-1] for r in built["results"]}
    assert "stg_plants_api__readings" in names and "fct_readings" in names
    assert "stg_plants_api__ingest_runs" not in names  # only the selection was built


def test_the_readme_gives_analysts_the_locked_front_door():
    readme = (ROOT / "README.md").read_text()
    assert 'make dbt ARGS="build --select my_model+"' in readme
    assert ".venv/bin/dbt build" not in readme


# ---------------------------------------------------------------- clean
def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_clean_keeps_the_hot_store_the_archive_the_logs_and_the_site(tmp_path):
    """Issue 10, defect 3: `make clean` removed data/ and logs/, after which cron failed."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    shutil.copy(ROOT / "Makefile", checkout / "Makefile")
    keep = [
        "data/lnhm.duckdb",
        "data/archive/manifest.json",
        "data/archive/readings/day=2026-11-25/part-1.parquet",
        "data/outbox/x.eml",
        "logs/ingest.log",
        "build/reports/current/index.html",
        "build/reports/index.html",
    ]
    drop = [
        "target/manifest.json",
        "dbt_packages/x/dbt_project.yml",
        ".pytest_cache/v/cache",
        "build/test-artifacts/overview.png",
        "data/demo/lnhm.duckdb",
        "ingest/__pycache__/x.pyc",
    ]
    for name in keep + drop:
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        (checkout / name).write_text(name)
    result = make("clean", env=clean_env(), cwd=checkout)
    assert result.returncode == 0, result.stderr
    assert _tree(checkout) == {"Makefile", *keep}

    # a configured location inside something clean would remove is kept, and said so
    (checkout / "target" / "keep.duckdb").parent.mkdir()
    (checkout / "target" / "keep.duckdb").write_text("hot")
    env = clean_env(LNHM_DUCKDB_PATH=str(checkout / "target" / "keep.duckdb"))
    result = make("clean", env=env, cwd=checkout)
    assert result.returncode == 0, result.stderr
    assert (checkout / "target" / "keep.duckdb").exists()
    assert "keeping target" in result.stdout


# ---------------------------------------------------------------- an empty warehouse
@pytest.mark.parametrize("state", ["no file", "empty file", "empty postgres"])
@pytest.mark.parametrize("target", ["transform", "freshness"])
def test_dbt_jobs_on_an_empty_warehouse_say_one_line(store, target, state, request):
    """Issue 10, defect 9: `make transform` on an empty warehouse printed 325 lines of dbt."""
    env = dict(store)
    if state == "empty file":
        import duckdb

        duckdb.connect(store["LNHM_DUCKDB_PATH"]).close()
    elif state == "empty postgres":
        env.update(request.getfixturevalue("postgres_env"), LNHM_WAREHOUSE="postgres")
    result = make(target, env=env)
    assert result.returncode != 0
    assert result.stdout.count("\n") == 1, result.stdout  # the JSON line, no dbt output
    [line, make_line] = result.stderr.strip().splitlines()
    assert line.startswith(f"{target}: failed: the hot store ")
    assert line.endswith("run make ingest first")
    assert make_line.startswith("make: *** ")
    if state == "no file":
        assert not Path(store["LNHM_DUCKDB_PATH"]).exists()


# ---------------------------------------------------------------- configuration that cannot work
@pytest.mark.parametrize(
    "target", ["ingest", "transform", "archive", "reports", "alerts", "ops-check", "digest"]
)
def test_an_s3_url_without_a_bucket_stops_every_job_in_one_line(store, target):
    """Issue 10, defect 4: `s3://` was taken as a local folder `s3:`, and the archive wrote
    there and said "verified, published, pruned"."""
    result = make(target, env={**store, "LNHM_ARCHIVE_URL": "s3://"})
    assert result.returncode != 0
    [line, make_line] = result.stderr.strip().splitlines()
    job = {"ops-check": "alerts-ops", "digest": "alerts-digest"}.get(target, target)
    assert line.startswith(f"{job}: invalid configuration: LNHM_ARCHIVE_URL: "), line
    assert "Error 2" in make_line
    assert not (ROOT / "s3:").exists()
    assert not Path(store["LNHM_DUCKDB_PATH"]).exists()  # nothing was touched


@pytest.mark.parametrize("target", ["archive", "reports", "alerts", "digest", "ops-check"])
def test_the_other_jobs_on_a_missing_warehouse_say_at_most_one_line(store, target):
    result = make(target, env=store)
    job_lines = [line for line in result.stderr.splitlines() if not line.startswith("make: ")]
    assert len(job_lines) <= 1, result.stderr
    assert "Traceback" not in result.stderr
    record = job_line(result)
    said = " ".join(job_lines) + json.dumps(record)
    assert "does not exist yet" in said or record["outcome"] == "ok", said
