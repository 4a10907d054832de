"""End to end on the real pipeline: ingest backfill -> dbt build -> archive -> dbt build again.

The expectations come from the hot store as ingest left it (every key, its day parsed here in
Python), not from the archive job: after the run each reading is in exactly one tier, the
archived days are exactly the whole UTC days older than 24 h, the long-lived marts keep their
history, and the next dbt build neither fails nor brings pruned rows back.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from ingest.rows import READING_SCHEMA, api_body

ROOT = Path(__file__).resolve().parents[1]
END = "2026-11-28T06:00:00"
NOW = "2026-11-28T06:00:30+00:00"
ARCHIVABLE = {date(2026, 11, 25), date(2026, 11, 26)}  # whole days ending <= 27 Nov 06:00:30


def _env(tmp: Path, hot: str, pg: dict | None, s3=None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LNHM_", "AWS_", "PG", "DBT_"))}
    env.update(
        RUNTIME__DLTHUB_TELEMETRY="false",
        DO_NOT_TRACK="1",
        LNHM_PLANT_IDS="1-12",
        LNHM_WAREHOUSE=hot,
        LNHM_DUCKDB_PATH=str(tmp / "lnhm.duckdb"),
        LNHM_ARCHIVE_URL=str(tmp / "archive"),
        DBT_TARGET_PATH=str(tmp / "target"),
        DBT_LOG_PATH=str(tmp / "logs"),
    )
    if pg:
        env.update(pg)
    if s3 is not None:
        env.update(s3.env, LNHM_ARCHIVE_URL=f"s3://{s3.make_bucket()}/archive")
    return env


def _run(env: dict, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stdout[-3000:]}{result.stderr}"
    return result


def _dbt(env: dict, *extra: str) -> None:
    dbt = str(Path(sys.executable).with_name("dbt"))
    target = env["LNHM_WAREHOUSE"]
    _run(env, dbt, "build", "--profiles-dir", str(ROOT), "--target", target, *extra)


def _query(env: dict, sql: str) -> list[tuple]:
    if env["LNHM_WAREHOUSE"] == "duckdb":
        con = duckdb.connect(env["LNHM_DUCKDB_PATH"], read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()
    import psycopg2

    conn = psycopg2.connect(
        host=env["PGHOST"], port=env["PGPORT"], user=env["PGUSER"], dbname=env["PGDATABASE"]
    )
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        conn.close()


def _archived(env: dict, s3) -> dict[str, list[dict]]:
    url = env["LNHM_ARCHIVE_URL"]
    if url.startswith("s3://"):
        bucket, _, prefix = url[5:].partition("/")
        client = s3.client()

        def read(key):
            return client.get_object(Bucket=bucket, Key=f"{prefix}/{key}")["Body"].read()
    else:

        def read(key):
            return (Path(url) / key).read_bytes()

    manifest = json.loads(read("manifest.json"))
    out: dict[str, list[dict]] = {"readings": [], "fetch_failures": [], "manifest": manifest}
    for entry in manifest["days"].values():
        for key in entry["files"]:
            out[key.split("/")[0]] += pq.read_table(io.BytesIO(read(key))).to_pylist()
    return out


@pytest.mark.parametrize("combo", ["duckdb-local", "postgres-s3"])
def test_pipeline_backfill_transform_archive_transform(combo, tmp_path, request):
    hot, target = combo.split("-")
    pg = request.getfixturevalue("postgres_env") if hot == "postgres" else None
    s3 = request.getfixturevalue("s3") if target == "s3" else None
    env = _env(tmp_path, hot, pg, s3)
    _run(env, sys.executable, "-m", "harness.backfill", "--hours", "72", "--end", END)
    _dbt(env, "--exclude-resource-type", "unit_test")

    keys = _query(env, "select plant_id, recording_taken from raw.plant_readings")
    columns = [f.name for f in READING_SCHEMA]
    bodies = {
        (row["plant_id"], row["recording_taken"]): api_body(row)
        for row in (
            dict(zip(columns, values, strict=True))
            for values in _query(env, f"select {', '.join(columns)} from raw.plant_readings")
        )
    }
    fails = _query(env, "select run_id, plant_id, fetched_at from raw.plant_fetch_failures")
    day_of = {k: datetime.strptime(k[1], "%Y-%m-%d %H:%M:%S").date() for k in keys}
    expect_archived = {k for k in keys if day_of[k] in ARCHIVABLE}
    expect_failures = {(r, p) for r, p, at in fails if at.date() in ARCHIVABLE}
    assert len(expect_archived) > 12 * 1440  # more than a whole day of 12 plants
    summary_before = set(
        _query(env, "select plant_id, day, readings from marts.plant_daily_summary")
    )

    result = _run(env, sys.executable, "-m", "archive", "--now", NOW)
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert record["counts"]["readings"] == len(expect_archived), result.stderr
    assert record["counts"]["readings_without_cleaned_values"] == 0

    hot_keys = _query(env, "select plant_id, recording_taken from raw.plant_readings")
    archived = _archived(env, s3)
    arch_keys = [(r["plant_id"], r["recording_taken"]) for r in archived["readings"]]
    assert len(arch_keys) == len(set(arch_keys))
    assert set(arch_keys) == expect_archived
    # every field the API sent survives: each archived row gives back its body, byte for byte
    for row in archived["readings"]:
        assert api_body(row) == bodies[(row["plant_id"], row["recording_taken"])]
    assert set(hot_keys) == set(keys) - expect_archived
    arch_fails = {(r["run_id"], r["plant_id"]) for r in archived["fetch_failures"]}
    assert arch_fails == expect_failures
    assert sorted(archived["manifest"]["days"]) == sorted(d.isoformat() for d in ARCHIVABLE)
    assert all(r["reading_id"] is not None for r in archived["readings"])
    assert (
        _query(
            env,
            "select count(*) from raw_staging.plant_readings where recording_taken < '2026-11-27'",
        )[0][0]
        == 0
    )
    (old_fct,) = _query(
        env, "select count(*) from marts.fct_readings where recorded_at < '2026-11-27'"
    )[0]
    assert old_fct == 0

    # The next transform neither fails nor resurrects pruned rows; history survives.
    _dbt(env)
    (old_fct,) = _query(
        env, "select count(*) from marts.fct_readings where recorded_at < '2026-11-27'"
    )[0]
    assert old_fct == 0
    summary_after = set(
        _query(env, "select plant_id, day, readings from marts.plant_daily_summary")
    )
    assert {s for s in summary_before if s[1] in ARCHIVABLE} <= summary_after

    again = _run(env, sys.executable, "-m", "archive", "--now", NOW)
    assert json.loads(again.stdout.strip().splitlines()[-1])["counts"]["days_archived"] == 0
