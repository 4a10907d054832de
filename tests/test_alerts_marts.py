"""Alerts on marts built by the real pipeline: simulator backfill -> dbt -> alerts (DuckDB).

The expected messages are read from the marts with plain SQL here, independently of the alert
code: one per open incident of marts.incident_alerts that is not held, each to the plant's
botanist.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import duckdb

from harness.services import ROOT
from tests.test_alerts_support import read_outbox, run_job


def test_alerts_follow_the_dbt_marts(tmp_path):
    env = {
        "LNHM_WAREHOUSE": "duckdb",
        "LNHM_DUCKDB_PATH": str(tmp_path / "lnhm.duckdb"),
        "LNHM_OUTBOX_DIR": str(tmp_path / "outbox"),
        "LNHM_ARCHIVE_URL": str(tmp_path / "archive"),
        "LNHM_PLANT_IDS": "1-50",
        "LNHM_SMTP_HOST": "",
        "DBT_TARGET_PATH": str(tmp_path / "dbt-target"),
        "DBT_LOG_PATH": str(tmp_path / "dbt-logs"),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "DO_NOT_TRACK": "1",
    }
    full_env = {**os.environ, **env}
    # The marts' clock is the newest fetch, so end the history at 12:30 UTC, before the daily
    # waterings (13:00-15:00), when dry plants are open incidents whatever time the test runs.
    now = datetime.now(UTC)
    end = now.replace(hour=12, minute=30, second=0, microsecond=0)
    end -= timedelta(days=1) if end > now else timedelta(0)
    backfill = subprocess.run(
        [sys.executable, "-m", "harness.backfill", "--hours", "30", "--end", end.isoformat()],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert backfill.returncode == 0, backfill.stderr
    dbt = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "dbt"),
            "build",
            "--profiles-dir",
            ".",
            "--target",
            "duckdb",
            "--select",
            "+plant_status",
            "+incident_alerts",
            "+dim_botanists",
            "--exclude",
            "test_type:unit",
            "--indirect-selection",
            "cautious",
        ],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert dbt.returncode == 0, dbt.stdout[-4000:]

    with duckdb.connect(env["LNHM_DUCKDB_PATH"], read_only=True) as con:
        missing, watched = con.execute(
            "select count(*) filter (where is_missing), count(*) from marts.plant_status"
            " where not is_on_loan"
        ).fetchone()
        assert missing < watched  # the feed is up, so nothing is held back
        expected = dict(
            con.execute(
                "select 'incident:' || a.incident_id, s.botanist_email"
                " from marts.incident_alerts as a inner join marts.plant_status as s"
                " using (plant_id) where not a.is_held"
            ).fetchall()
        )
        botanists = {
            row[0]
            for row in con.execute(
                "select distinct lower(s.botanist_email) from marts.plant_status as s"
                " inner join marts.dim_botanists as b using (botanist_id) where b.is_email_valid"
            ).fetchall()
        }
    assert expected, "the backfill should leave at least one open incident"

    first = run_job(env)
    assert first.returncode == 0, first.stderr
    messages = read_outbox(tmp_path / "outbox")
    assert {m["X-LNHM-Alert-Key"]: m["To"] for m in messages} == expected
    for message in messages:
        assert message.get_body(("plain",)).get_content().startswith("Hello ")

    assert run_job(env).log["counts"]["sent"] == 0
    digest = run_job(env, "digest")
    assert digest.returncode == 0, digest.stderr
    assert digest.log["counts"]["digests_sent"] == len(botanists)
    assert len(read_outbox(tmp_path / "outbox")) == len(expected) + len(botanists)
