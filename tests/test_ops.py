"""Operator alerts: store capacity, failing ingest, stale sources, overdue archive."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from alerts.ops import archive_due_at, growth_per_day
from lnhm.settings import AlertConfig
from tests import test_alerts_support as support
from tests.test_alerts_support import run_job, utcnow

hot, duck, smtp = support.hot, support.duck, support.smtp

HUGE = str(1024**4)  # capacity far above anything a test store reaches


def healthy(hot) -> None:
    """Marts and raw rows of a warehouse where every check passes."""
    hot.create_marts()
    now = utcnow()
    hot.sql(
        "insert into raw.plant_readings (plant_id, recording_taken, fetched_at, run_id)"
        " values (1, 'x', %s, 'r1')",
        (now.isoformat() + "+00:00",),
    )
    for i in range(3):
        hot.sql(
            "insert into raw.ingest_runs (run_id, started_at, outcome) values (%s, %s, 'ok')",
            (f"run-{i}", (now - timedelta(minutes=3 - i)).isoformat() + "+00:00"),
        )
    hot.sql(
        "insert into marts.fct_readings (reading_id, plant_id, recorded_at) values ('r', 1, %s)",
        (now - timedelta(hours=5),),
    )


def bulk(hot) -> None:
    """~30 MB of rows, so that DuckDB's block-sized ups and downs are small beside the size."""
    hot.sql(
        "create table raw.filler as select i, md5(cast(i as text)) || md5(cast(-i as text))"
        " as pad from generate_series(1, 300000) as t(i)"
    )


def ops_env(hot, smtp, **extra) -> dict:
    return {**hot.env, **smtp.env, "LNHM_STORE_CAPACITY_BYTES": HUGE, **extra}


def test_healthy_warehouse_sends_nothing(hot, smtp):
    healthy(hot)
    result = run_job(ops_env(hot, smtp), "ops")
    assert result.returncode == 0, result.stderr
    assert result.log["job"] == "alerts-ops"
    assert result.log["counts"]["failing"] == []
    assert result.log["counts"]["store_bytes"] > 0
    assert smtp.inbox.take() == []


def test_store_near_capacity_warns_once_with_size_and_growth_then_recovers(hot, smtp):
    healthy(hot)
    bulk(hot)
    # measure the real size first (the first run creates the alerts tables), then set the
    # capacity so that the store is about 85 % full
    run_job(ops_env(hot, smtp), "ops")
    size = run_job(ops_env(hot, smtp), "ops").log["counts"]["store_bytes"]
    # a sample from yesterday, 1 MiB smaller: growth is about 1 MiB per day
    hot.sql(
        "insert into alerts.store_size_history (measured_at, size_bytes) values (%s, %s)",
        (utcnow() - timedelta(days=1), size - 1024**2),
    )
    capacity = str(int(size / 0.85))
    env = ops_env(hot, smtp, LNHM_STORE_CAPACITY_BYTES=capacity)
    result = run_job(env, "ops")
    assert result.returncode == 0, result.stderr
    assert result.log["counts"]["failing"] == ["store_capacity"]
    [mail] = smtp.inbox.take()
    assert mail.rcpt_tos == ["ops@lnhm.example"]
    assert "full" in mail.subject
    text = mail.text()
    assert "Used:" in text and "Growth per day:" in text
    growth = result.log["counts"]["growth_bytes_per_day"]
    expected = result.log["counts"]["store_bytes"] - (size - 1024**2)  # over one day
    assert growth == pytest.approx(expected, rel=0.01)
    # SI units, as on the site (1 MB = 1,000,000 bytes)
    assert re.search(rf"Growth per day: +{growth / 1e6:.1f} MB/day", text), text
    assert "Full in about" in text

    assert run_job(env, "ops").returncode == 0
    assert smtp.inbox.take() == []  # still full: no second message

    assert run_job(ops_env(hot, smtp), "ops").returncode == 0
    [mail] = smtp.inbox.take()
    assert mail.subject.startswith("[LNHM ops] Resolved:")


def test_capacity_warning_threshold_is_80_percent(duck, smtp):
    healthy(duck)
    bulk(duck)
    run_job(ops_env(duck, smtp), "ops")  # creates the alerts tables: the file grows once
    size = run_job(ops_env(duck, smtp), "ops").log["counts"]["store_bytes"]
    below = run_job(ops_env(duck, smtp, LNHM_STORE_CAPACITY_BYTES=str(int(size / 0.7))), "ops")
    assert below.log["counts"]["store_used_pct"] < 80
    assert below.log["counts"]["failing"] == []
    above = run_job(ops_env(duck, smtp, LNHM_STORE_CAPACITY_BYTES=str(int(size / 0.85))), "ops")
    assert above.log["counts"]["store_used_pct"] >= 80
    assert above.log["counts"]["failing"] == ["store_capacity"]


def test_ingest_failing_for_n_consecutive_runs(hot, smtp):
    healthy(hot)
    now = utcnow()
    for i in range(2):
        hot.sql(
            "insert into raw.ingest_runs (run_id, started_at, outcome, failures)"
            " values (%s, %s, 'failed', 50)",
            (f"bad-{i}", (now + timedelta(seconds=i + 1)).isoformat() + "+00:00"),
        )
    two = run_job(ops_env(hot, smtp), "ops")
    assert two.log["counts"]["failing"] == []  # two failures in a row: not yet
    hot.sql(
        "insert into raw.ingest_runs (run_id, started_at, outcome, failures)"
        " values ('bad-2', %s, 'failed', 50)",
        ((now + timedelta(seconds=3)).isoformat() + "+00:00",),
    )
    three = run_job(ops_env(hot, smtp), "ops")
    assert three.log["counts"]["failing"] == ["ingest_failing"]
    [mail] = smtp.inbox.take()
    assert "ingest failed 3 runs in a row" in mail.subject
    assert "bad-2, bad-1, bad-0" in mail.text()

    hot.sql(
        "insert into raw.ingest_runs (run_id, started_at, outcome) values ('ok-again', %s, 'ok')",
        ((now + timedelta(seconds=4)).isoformat() + "+00:00",),
    )
    assert run_job(ops_env(hot, smtp), "ops").returncode == 0
    [mail] = smtp.inbox.take()
    assert mail.subject == "[LNHM ops] Resolved: ingest failed 3 runs in a row"


def test_sources_stale_after_15_minutes(hot, smtp):
    healthy(hot)
    hot.sql(
        "update raw.plant_readings set fetched_at = %s",
        ((utcnow() - timedelta(minutes=16)).isoformat() + "+00:00",),
    )
    result = run_job(ops_env(hot, smtp), "ops")
    assert result.log["counts"]["failing"] == ["sources_stale"]
    [mail] = smtp.inbox.take()
    assert "stale" in mail.subject and "16 min" in mail.text()
    # 14 minutes old is fresh enough
    hot.sql(
        "update raw.plant_readings set fetched_at = %s",
        ((utcnow() - timedelta(minutes=14)).isoformat() + "+00:00",),
    )
    assert run_job(ops_env(hot, smtp), "ops").log["counts"]["failing"] == []
    assert smtp.inbox.take()[0].subject.startswith("[LNHM ops] Resolved:")


def _manifest(folder, archived_at) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    day = {"label": "x", "readings": 1, "archived_at": archived_at.isoformat() + "+00:00"}
    (folder / "manifest.json").write_text(json.dumps({"days": {"2026-01-01": day}}))


def test_archive_not_run_for_26_hours_while_a_day_is_due(duck, smtp, tmp_path):
    healthy(duck)
    # readings from four days ago are still hot: long due for the archive
    duck.sql(
        "insert into marts.fct_readings (reading_id, plant_id, recorded_at) values ('old', 1, %s)",
        (utcnow() - timedelta(days=4),),
    )
    _manifest(tmp_path / "archive", utcnow() - timedelta(hours=30))
    result = run_job(ops_env(duck, smtp), "ops")
    assert result.log["counts"]["failing"] == ["archive_overdue"]
    [mail] = smtp.inbox.take()
    assert "archive has not run for 26 hours" in mail.subject

    _manifest(tmp_path / "archive", utcnow() - timedelta(hours=1))
    assert run_job(ops_env(duck, smtp), "ops").log["counts"]["failing"] == []
    assert len(smtp.inbox.take()) == 1  # the recovery


def test_archive_never_run_with_old_readings(duck, smtp):
    healthy(duck)
    duck.sql(
        "insert into marts.fct_readings (reading_id, plant_id, recorded_at) values ('old', 1, %s)",
        (utcnow() - timedelta(days=4),),
    )
    result = run_job(ops_env(duck, smtp), "ops")
    assert result.log["counts"]["failing"] == ["archive_overdue"]
    assert "never" in smtp.inbox.take()[0].text()


def test_archive_quiet_when_nothing_is_due_yet(duck, smtp, tmp_path):
    healthy(duck)  # the oldest hot reading is 5 hours old
    _manifest(tmp_path / "archive", utcnow() - timedelta(days=3))
    assert run_job(ops_env(duck, smtp), "ops").log["counts"]["failing"] == []


def test_archive_manifest_on_s3(duck, smtp, s3):
    healthy(duck)
    duck.sql(
        "insert into marts.fct_readings (reading_id, plant_id, recorded_at) values ('old', 1, %s)",
        (utcnow() - timedelta(days=4),),
    )
    bucket = s3.make_bucket()
    env = {**ops_env(duck, smtp), **s3.env, "LNHM_ARCHIVE_URL": f"s3://{bucket}/lnhm"}
    fresh = {"days": {"2026-01-01": {"archived_at": utcnow().isoformat() + "Z"}}}
    s3.client().put_object(Bucket=bucket, Key="lnhm/manifest.json", Body=json.dumps(fresh).encode())
    assert run_job(env, "ops").log["counts"]["failing"] == []

    missing = {**env, "LNHM_ARCHIVE_URL": "s3://no-such-bucket-lnhm/x"}
    result = run_job(missing, "ops")
    assert result.returncode == 0
    assert result.log["counts"]["failing"] == ["archive_overdue"]
    [mail] = smtp.inbox.take()
    assert "cannot be read" in mail.subject
    assert "no-such-bucket-lnhm" in mail.text()


def test_growth_per_day_uses_the_oldest_sample_of_the_week():
    now = utcnow()
    history = [
        {"measured_at": now - timedelta(days=9), "size_bytes": 0},  # too old
        {"measured_at": now - timedelta(days=2), "size_bytes": 1000},
        {"measured_at": now - timedelta(days=1), "size_bytes": 1500},
        {"measured_at": now - timedelta(minutes=10), "size_bytes": 2900},  # too recent
    ]
    assert growth_per_day(history, now, 3000) == pytest.approx(1000)
    assert growth_per_day(history[-1:], now, 3000) is None


def test_archive_due_time_is_day_end_plus_retention():
    from datetime import datetime

    from lnhm.settings import from_env

    settings = from_env({"LNHM_RETENTION_HOURS": "24"})
    due = archive_due_at(settings, datetime(2026, 11, 26, 13, 5))
    assert due == datetime(2026, 11, 28, 0, 0)
    assert AlertConfig().archive_hours == 26
