"""The real jobs under their PostgreSQL roles: ingest as lnhm_loader, dbt as lnhm_transformer,
alerts and ops-check as lnhm_alerter, reports as lnhm_reporter, archive as lnhm_archiver."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import psycopg2
import psycopg2.errors

from harness.services import ROOT
from tests.test_roles import apply_roles

PRIVILEGE_ERROR = re.compile(r"permission denied|must be owner|InsufficientPrivilege", re.I)


def _run(env: dict[str, str], role: str, *args: str, timeout: float = 600):
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env={**os.environ, **env, "PGUSER": role},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _job(env: dict[str, str], role: str, *args: str) -> dict:
    proc = _run(env, role, *args)
    assert proc.returncode == 0, f"{args} as {role}: {proc.stdout[-4000:]}{proc.stderr[-2000:]}"
    lines = [line for line in proc.stdout.splitlines() if line.startswith('{"job"')]
    return json.loads(lines[-1])


def test_each_job_runs_under_its_own_role(postgres_env, simulator_server, tmp_path):
    apply_roles(postgres_env)
    url = simulator_server("--plants", "5", "--seed", "7", "--step", "60")
    env = {
        **postgres_env,
        "LNHM_WAREHOUSE": "postgres",
        "LNHM_API_URL": url,
        "LNHM_PLANT_IDS": "1-5",
        "LNHM_OUTBOX_DIR": str(tmp_path / "outbox"),
        "LNHM_ARCHIVE_URL": str(tmp_path / "archive"),
        "LNHM_REPORTS_DIR": str(tmp_path / "reports"),
        "LNHM_SMTP_HOST": "",
        "DBT_TARGET_PATH": str(tmp_path / "dbt-target"),
        "DBT_LOG_PATH": str(tmp_path / "dbt-logs"),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "DO_NOT_TRACK": "1",
    }
    assert (
        _job(env, "lnhm_loader", "harness.backfill", "--hours", "50", "--plants", "5")["outcome"]
        == "ok"
    )
    assert _job(env, "lnhm_loader", "ingest", "poll")["outcome"] == "ok"
    # dbt build as the transformer: every model, seed, snapshot and data test (unit tests touch
    # no tables, so they say nothing about privileges and are left to the dbt tests)
    dbt = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "dbt"),
            "build",
            "--profiles-dir",
            ".",
            "--target",
            "postgres",
            "--exclude",
            "test_type:unit",
        ],
        cwd=ROOT,
        env={**os.environ, **env, "PGUSER": "lnhm_transformer"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    results = json.loads((tmp_path / "dbt-target" / "run_results.json").read_text())["results"]
    refused = [
        r
        for r in results
        if re.search(r"permission denied|must be owner", str(r.get("message")), re.I)
    ]
    assert not refused, refused  # whatever else dbt reports, the role lacked nothing
    built = {
        r["unique_id"].rsplit(".", 1)[1]: r["status"]
        for r in results
        if r["unique_id"].startswith(("model.", "seed.", "snapshot."))
    }
    for name in ("fct_readings", "plant_status", "fct_incidents", "anomalies", "dim_botanists"):
        assert built.get(name) == "success", (name, dbt.stdout[-3000:])
    # the scheduled transform as the transformer: it records the code it built in staging
    # (which the role owns), reads the record back, and leaves the seeds and views out
    for expected in ("every node", "scheduled"):
        assert _job(env, "lnhm_transformer", "lnhm.transform", "build")["counts"]["built"] == (
            expected
        )
    assert _job(env, "lnhm_alerter", "alerts")["outcome"] == "ok"
    assert _job(env, "lnhm_alerter", "alerts", "ops")["outcome"] == "ok"
    assert _job(env, "lnhm_reporter", "reports")["outcome"] == "ok"
    # the archive's own correctness is tested elsewhere; here: its role lacks nothing it uses
    archive = _run(env, "lnhm_archiver", "archive")
    assert not PRIVILEGE_ERROR.search(archive.stdout + archive.stderr), archive.stderr

    reporter = psycopg2.connect(
        host=env["PGHOST"], port=env["PGPORT"], dbname=env["PGDATABASE"], user="lnhm_reporter"
    )
    try:
        with reporter.cursor() as cur:
            cur.execute("select count(*) from marts.plant_status")
            assert cur.fetchone()[0] == 5
            cur.execute("select count(*) from marts.fct_readings")
            assert cur.fetchone()[0] > 0
        reporter.rollback()
        with reporter.cursor() as cur:
            try:
                cur.execute("select count(*) from raw.plant_readings")
            except psycopg2.errors.InsufficientPrivilege:
                pass
            else:
                raise AssertionError("the reporter could read raw")
    finally:
        reporter.close()
