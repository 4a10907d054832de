"""marts.fct_incidents on the real chain: incidents keep their id, kind and start when the
archive prunes the days they began, and the alerts mail each of them once.

- the whole chain (backfill -> dbt -> alerts -> archive -> dbt -> alerts) on DuckDB, with the
  product's own jobs, as cron runs them;
- a warehouse pruned in the middle of incidents against its never-pruned twin loaded with the
  same polls (DuckDB and PostgreSQL): the twin computes every incident from all its readings,
  so it is the independent answer the long-lived table must keep giving;
- the retention setting: one value for dbt and the archive, too small refused.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

import duckdb
import pytest

from harness.services import ROOT
from tests.test_alerts_support import read_outbox, run_job
from tests.test_dbt_support import Warehouse, utc_minute

pytestmark = pytest.mark.timeout(1200)

INCIDENT_SQL = (
    "select incident_id, plant_id, kind, started_at, ended_at, is_open, worst_value,"
    " threshold, readings from marts.fct_incidents order by incident_id"
)


def last_half_past_noon() -> datetime:
    """The latest 12:30 UTC not in the future (naive UTC): simulated plants are dry then."""
    now = utc_minute()
    end = now.replace(hour=12, minute=30)
    return end - timedelta(days=1) if end > now else end


def job(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=900,
    )


def log_line(result: subprocess.CompletedProcess) -> dict:
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_incidents_survive_the_archive_and_are_mailed_once(tmp_path):
    env = {
        "LNHM_WAREHOUSE": "duckdb",
        "LNHM_DUCKDB_PATH": str(tmp_path / "lnhm.duckdb"),
        "LNHM_OUTBOX_DIR": str(tmp_path / "outbox"),
        "LNHM_ARCHIVE_URL": str(tmp_path / "archive"),
        "LNHM_PLANT_IDS": "1-50",
        "LNHM_SMTP_HOST": "",
        "LNHM_RETENTION_HOURS": "24",
        "DBT_TARGET_PATH": str(tmp_path / "dbt-target"),
        "DBT_LOG_PATH": str(tmp_path / "dbt-logs"),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "DO_NOT_TRACK": "1",
    }
    end = last_half_past_noon()
    backfill = job(env, "harness.backfill", "--hours", "72", "--end", end.isoformat())
    assert backfill.returncode == 0, backfill.stderr
    first_build = job(env, "lnhm.transform", "build")
    assert first_build.returncode == 0, first_build.stdout[-3000:]

    with duckdb.connect(env["LNHM_DUCKDB_PATH"], read_only=True) as con:
        before = {row[0]: row for row in con.execute(INCIDENT_SQL).fetchall()}
        # what the alerts must announce, read with plain SQL from the marts
        announce = {
            f"incident:{incident_id}"
            for (incident_id,) in con.execute(
                "select incident_id from marts.incident_alerts where not is_held"
            ).fetchall()
        }
    assert announce, "the backfill ends at 12:30 UTC: dry plants have open incidents"
    assert before

    first = run_job(env)
    assert first.returncode == 0, first.stderr
    mailed = read_outbox(tmp_path / "outbox")
    assert {m["X-LNHM-Alert-Key"] for m in mailed} == announce
    assert all(m["X-LNHM-Message-Kind"] == "problem" for m in mailed)

    archive = job(env, "archive")
    assert archive.returncode == 0, archive.stderr
    archived_days = log_line(archive)["counts"]["days"]
    assert len(archived_days) >= 2  # 72 h of history: at least two whole days pruned
    cut = max(archived_days)
    with duckdb.connect(env["LNHM_DUCKDB_PATH"], read_only=True) as con:
        oldest = con.execute("select min(recorded_at) from marts.fct_readings").fetchone()[0]
    assert oldest.date().isoformat() > cut
    # incidents that began on a pruned day exist, so the check below means something
    assert any(row[3].date().isoformat() <= cut for row in before.values())

    second_build = job(env, "lnhm.transform", "build")
    assert second_build.returncode == 0, second_build.stdout[-3000:]
    with duckdb.connect(env["LNHM_DUCKDB_PATH"], read_only=True) as con:
        after = {row[0]: row for row in con.execute(INCIDENT_SQL).fetchall()}
    assert set(after) >= set(before)
    for incident_id, row in before.items():
        # same id, plant, kind and start; and nothing else changed (no new readings came)
        assert after[incident_id] == row, incident_id

    second = run_job(env)
    assert second.returncode == 0, second.stderr
    assert second.log["counts"]["sent"] == 0
    keys = Counter(
        (m["X-LNHM-Alert-Key"], m["X-LNHM-Message-Kind"]) for m in read_outbox(tmp_path / "outbox")
    )
    assert max(keys.values()) == 1
    assert len(keys) == len(announce)


def numbers(rows: list[tuple]) -> list[tuple]:
    """Rows with numbers as rounded floats (PostgreSQL answers numeric, DuckDB double)."""
    return [
        tuple(round(float(v), 9) if isinstance(v, (float, Decimal)) else v for v in row)
        for row in rows
    ]


def prune_before(wh: Warehouse, cutoff: datetime) -> int:
    """What the archive deletes, but up to a time of day (the archive's rule is whole days; the
    marts' rule must not care where the cut is)."""
    at = f"timestamp '{cutoff:%Y-%m-%d %H:%M:%S}'"
    pruned = wh.scalar(f"select count(*) from marts.fct_readings where recorded_at < {at}")
    wh.execute(
        "delete from raw.plant_readings where cast(plant_id as varchar) || '|' || "
        f"recording_taken in (select reading_id from marts.fct_readings where recorded_at < {at})",
        f"delete from marts.fct_readings where recorded_at < {at}",
        f"delete from raw.plant_fetch_failures where fetched_at < {at}",
    )
    return pruned


# What the twins compare is built, with its data tests: the models upstream of fct_incidents (the
# rest of the project, the reports and the alerts' marts, reads them and proves nothing here).
INCIDENTS_BUILD = (
    "build",
    "--select",
    "+fct_incidents",
    "--indirect-selection",
    "cautious",  # not the tests of relationships to models outside it
    "--exclude-resource-type",
    "unit_test",
)


@pytest.fixture(params=["duckdb", "postgres"])
def twins(request, tmp_path):
    """Two warehouses loaded with the same 30 h of polls and built: the one to prune, and its
    twin, a copy of it made after the build (the same polls built the same way: building it
    again would give the same tables, at twice the cost)."""
    end = last_half_past_noon()
    (tmp_path / "pruned").mkdir()
    if request.param == "duckdb":
        pruned = Warehouse.duckdb(tmp_path / "pruned")
    else:
        pruned = Warehouse.postgres(tmp_path / "pruned", request.getfixturevalue("postgres_env"))
    pruned.backfill(30, end, plants=17)  # plant 16 dries out: long moisture_low incidents
    pruned.dbt(*INCIDENTS_BUILD)
    # the twin: the warehouse, its dlt state (the next polls merge the same way) and dbt's target
    shutil.copytree(tmp_path / "pruned", tmp_path / "whole")
    if request.param == "duckdb":
        whole = Warehouse.duckdb(tmp_path / "whole")
    else:
        server = request.getfixturevalue("postgres")
        name = f"twin_{uuid.uuid4().hex[:10]}"
        server.psql(f"create database {name} template {pruned.env['PGDATABASE']}")
        server.databases.append(name)
        whole = Warehouse.postgres(tmp_path / "whole", server.env(name))
    return pruned, whole, end


def test_pruned_start_keeps_the_incident_its_unpruned_twin_has(twins):
    pruned, whole, end = twins
    assert numbers(pruned.query(INCIDENT_SQL)) == numbers(whole.query(INCIDENT_SQL))
    longest = pruned.query(
        "select incident_id, started_at, readings from marts.fct_incidents"
        " where kind = 'moisture_low' order by readings desc limit 1"
    )
    assert longest and longest[0][2] >= 10, longest
    incident_id, started_at, readings = longest[0]
    cutoff = started_at + timedelta(minutes=readings // 2)  # the middle of the incident
    assert prune_before(pruned, cutoff) > 0
    pruned.dbt(*INCIDENTS_BUILD)
    assert numbers(pruned.query(INCIDENT_SQL)) == numbers(whole.query(INCIDENT_SQL))
    row = pruned.query(
        "select kind, started_at, readings from marts.fct_incidents"
        f" where incident_id = '{incident_id}'"
    )
    assert row == [("moisture_low", started_at, readings)]

    # more polls: the incidents still open grow the same way in both
    for wh in (pruned, whole):
        wh.backfill(0.25, end + timedelta(minutes=15), plants=17)
        wh.dbt(*INCIDENTS_BUILD)
    assert numbers(pruned.query(INCIDENT_SQL)) == numbers(whole.query(INCIDENT_SQL))
    assert (
        pruned.scalar(
            f"select count(*) from marts.fct_readings where recorded_at < timestamp '{cutoff}'"
        )
        == 0
    )


@pytest.mark.parametrize("module", [("archive",), ("lnhm.transform", "build")])
def test_retention_below_what_the_long_lived_marts_need_is_refused(tmp_path, module):
    env = {
        "LNHM_WAREHOUSE": "duckdb",
        "LNHM_DUCKDB_PATH": str(tmp_path / "lnhm.duckdb"),
        "LNHM_ARCHIVE_URL": str(tmp_path / "archive"),
        "LNHM_RETENTION_HOURS": "12",
    }
    result = job(env, *module)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "LNHM_RETENTION_HOURS" in line and "at least 24" in line
    assert not (tmp_path / "lnhm.duckdb").exists()


def test_retention_and_watering_hours_reach_dbt_from_the_environment(tmp_path):
    wh = Warehouse.duckdb(tmp_path)
    compiled = wh.target_path / "compiled" / "lnhm" / "models"

    def compile_with(**variables: str) -> tuple[str, str]:
        wh.env.update(variables)
        wh.dbt("compile", "--select", "plant_daily_summary", "int_incident_episodes")
        summary = (compiled / "marts" / "plant_daily_summary.sql").read_text()
        episodes = (
            compiled / "intermediate" / "incidents" / "int_incident_episodes.sql"
        ).read_text()
        return summary, episodes

    summary, episodes = compile_with()
    assert "(24.0) * interval '1 hour'" in summary
    assert "26.0 * 60" in episodes
    summary, episodes = compile_with(LNHM_RETENTION_HOURS="36", LNHM_ALERT_WATERING_HOURS="30")
    assert "(36.0) * interval '1 hour'" in summary
    assert "30.0 * 60" in episodes


def test_the_transform_and_the_archive_tasks_share_one_retention():
    """dbt (the transform task) and the archive read LNHM_RETENTION_HOURS: in production both
    tasks must set it, to the same value."""
    values = {}
    for name in ("task-transform.json", "task-archive.json"):
        task = json.loads((ROOT / "deploy" / "ecs" / name).read_text())
        [container] = task["containerDefinitions"]
        env = {item["name"]: item["value"] for item in container["environment"]}
        values[name] = env.get("LNHM_RETENTION_HOURS")
    assert None not in values.values(), values
    assert len(set(values.values())) == 1, values
