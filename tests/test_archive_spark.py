"""Beyond one machine: a distributed engine reads the archive as it lies, with its own reader.

The archive is built by the real chain (simulated backfill -> dbt -> archive job) and then read
by Apache Spark in local mode (pyspark, Hive partition discovery over ``readings/day=...``):
Spark must see exactly the keys that were in the hot store for the archived days, and per day
the row counts and key checksums the manifest states. The checksum is recomputed in Spark SQL
from the manifest's own definition (sum of the lower 64 bits of md5 of the key text, read as
little-endian), not with DuckDB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]
END = "2026-11-28T06:00:00"
NOW = "2026-11-28T06:00:30+00:00"
ARCHIVED_DAYS = {"2026-11-25", "2026-11-26"}


def _run(env: dict, *args: str) -> str:
    result = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stdout[-3000:]}{result.stderr}"
    return result.stdout


def _md5_lower_sum(key_sql: str) -> str:
    """Spark SQL: sum over rows of the lower 64 bits of md5(key), read little-endian."""
    digest = f"md5({key_sql})"
    # bytes 8..15 of the digest are hex characters 17..32; little-endian: last byte first
    reversed_hex = ", ".join(f"substr({digest}, {17 + 2 * i}, 2)" for i in reversed(range(8)))
    return f"cast(sum(cast(conv(concat({reversed_hex}), 16, 10) as decimal(38, 0))) as string)"


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("spark-archive")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LNHM_", "AWS_", "PG", "DBT_"))}
    env.update(
        RUNTIME__DLTHUB_TELEMETRY="false",
        DO_NOT_TRACK="1",
        LNHM_PLANT_IDS="1-6",
        LNHM_WAREHOUSE="duckdb",
        LNHM_DUCKDB_PATH=str(tmp / "lnhm.duckdb"),
        LNHM_ARCHIVE_URL=str(tmp / "archive"),
        DBT_TARGET_PATH=str(tmp / "target"),
        DBT_LOG_PATH=str(tmp / "logs"),
    )
    _run(env, sys.executable, "-m", "harness.backfill", "--hours", "72", "--end", END)
    con = duckdb.connect(env["LNHM_DUCKDB_PATH"], read_only=True)
    keys = con.execute("select plant_id, recording_taken from raw.plant_readings").fetchall()
    failures = con.execute("select run_id, plant_id from raw.plant_fetch_failures").fetchall()
    con.close()
    dbt = str(Path(sys.executable).with_name("dbt"))
    # build, not run: the daily summary reads the seed care_thresholds (its dry threshold)
    _run(
        env,
        dbt,
        "build",
        "--profiles-dir",
        str(ROOT),
        "--select",
        "+plant_daily_summary",
        "--exclude-resource-type",
        "test",
        "unit_test",
    )
    _run(env, sys.executable, "-m", "archive", "--now", NOW)
    root = Path(env["LNHM_ARCHIVE_URL"])
    expected = {
        (pid, taken)
        for pid, taken in keys
        if datetime.strptime(taken, "%Y-%m-%d %H:%M:%S").date().isoformat() in ARCHIVED_DAYS
    }
    return {
        "root": root,
        "manifest": json.loads((root / "manifest.json").read_text()),
        "expected_keys": expected,
        "failures_in_hot": set(failures),
    }


@pytest.fixture(scope="module")
def spark():
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("lnhm-archive-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    yield session
    session.stop()


def test_spark_reads_the_archived_readings_as_the_manifest_lists_them(archive, spark):
    manifest = archive["manifest"]
    assert set(manifest["days"]) == ARCHIVED_DAYS
    readings = spark.read.parquet(str(archive["root"] / "readings"))  # Hive layout: day=...
    readings.createOrReplaceTempView("readings")

    rows = readings.select("plant_id", "recording_taken").collect()
    keys = {(row.plant_id, row.recording_taken) for row in rows}
    assert keys == archive["expected_keys"]
    assert len(rows) == len(keys)  # no key twice

    checksum = _md5_lower_sum("concat_ws('|', cast(plant_id as string), recording_taken)")
    per_day = spark.sql(
        f"select cast(day as string) as day, count(*) as n, {checksum} as checksum "
        "from readings group by day"
    ).collect()
    got = {row.day: (row.n, row.checksum) for row in per_day}
    want = {
        day: (entry["readings"], entry["readings_checksum"])
        for day, entry in manifest["days"].items()
    }
    assert got == want


def test_spark_reads_the_archived_failed_requests_as_the_manifest_lists_them(archive, spark):
    manifest = archive["manifest"]
    failures = spark.read.parquet(str(archive["root"] / "fetch_failures"))
    failures.createOrReplaceTempView("fetch_failures")
    checksum = _md5_lower_sum("concat_ws('|', run_id, cast(plant_id as string))")
    per_day = spark.sql(
        f"select cast(day as string) as day, count(*) as n, {checksum} as checksum "
        "from fetch_failures group by day"
    ).collect()
    got = {row.day: (row.n, row.checksum) for row in per_day}
    want = {
        day: (entry["fetch_failures"], entry["fetch_failures_checksum"])
        for day, entry in manifest["days"].items()
    }
    assert got == want
    assert sum(n for n, _ in got.values()) > 0  # the simulator's sensor faults
