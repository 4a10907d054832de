"""The archive job (`python -m archive`) against both hot stores and both archive targets.

Each test builds a hot store with the contract's raw and marts tables filled from a small,
known history (5 plants, a reading every 10 minutes from Wed 25 Nov 2026 00:00 to Sat 28 Nov
06:00 UTC, in every timestamp format the API has used), runs the job as a subprocess at a fixed
"now" (Sat 28 Nov 2026 06:00 UTC, retention 24 h, so 25 and 26 Nov are archivable), and checks
the outcome against expectations computed here from the generator, never from the job's output.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
START = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
STEP = timedelta(minutes=10)
PLANTS = (1, 2, 3, 4, 5)
ARCHIVABLE = (date(2026, 11, 25), date(2026, 11, 26))
# harness/crash.py kills the job (SIGKILL) when a day reaches one of these steps
CRASH_POINTS = ("staged", "verified", "published", "pruned")


# ---------------------------------------------------------------------------- known history
def recording_text(plant: int, at: datetime) -> str:
    """The formats the API has sent: v2 ISO with ms + Z, v3 ISO with µs, RFC 1123, v1."""
    if plant == 1:
        return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    if plant == 2:
        return at.strftime("%Y-%m-%dT%H:%M:%S.%f")
    if plant == 3:
        return at.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return at.strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Reading:
    plant_id: int
    at: datetime
    soil: float
    temp: float

    @property
    def key(self) -> tuple[int, str]:
        return (self.plant_id, recording_text(self.plant_id, self.at))


def history(start=START, end=NOW, plants=PLANTS) -> list[Reading]:
    out = []
    t = start
    while t < end:
        for p in plants:
            minutes = t.hour * 60 + t.minute
            out.append(Reading(p, t, round(100 - minutes / 60 * 3.5 + p, 2), 10 + p * 0.5))
        t += STEP
    # Edge of a day: one second before midnight belongs to the earlier day.
    out.append(Reading(4, datetime(2026, 11, 25, 23, 59, 59, tzinfo=UTC), 12.5, 11.0))
    return out


def not_transformed(r: Reading) -> bool:
    """Readings dbt has not seen yet: archived with null cleaned columns, never lost."""
    return (
        r.plant_id == 5
        and r.at >= datetime(2026, 11, 26, 22, 0, tzinfo=UTC)
        and r.at < datetime(2026, 11, 27, tzinfo=UTC)
    )


def failures(days=(25, 26, 27, 28)) -> list[tuple]:
    rows = []
    for d in days:
        at = datetime(2026, 11, d, 5 if d == 28 else 12, 0, tzinfo=UTC)
        run = f"{at:%Y%m%dT%H%M%SZ}-f{d}"
        rows += [
            (7, 404, "not_found", "plant not found", '{"error": "plant not found"}', 1, at, run),
            (43, 404, "on_loan", "plant on loan to another museum", None, 1, at, run),
            (2, None, "timeout", "read timed out", None, 3, at + timedelta(seconds=9), run),
        ]
    return rows


RAW_DDL = """
create schema if not exists raw;
create schema if not exists marts;
create table raw.plant_readings (
    plant_id bigint, recording_taken text, last_watered text, name text,
    soil_moisture double precision, temperature double precision,
    botanist__name text, botanist__email text, botanist__phone text,
    origin_location text, scientific_name text, images text, payload text,
    fetched_at timestamp with time zone, run_id text, _dlt_load_id text, _dlt_id text
);
create table raw.plant_fetch_failures (
    plant_id bigint, http_status bigint, error_kind text, error_message text, body_excerpt text,
    attempts bigint, fetched_at timestamp with time zone, run_id text, _dlt_load_id text,
    _dlt_id text
);
create table marts.fct_readings (
    reading_id text, plant_id bigint, recorded_at timestamp, soil_moisture_pct double precision,
    temperature_c double precision, last_watered_at timestamp, fetched_at timestamp, run_id text,
    is_moisture_out_of_range boolean, is_temperature_implausible boolean, is_duplicate boolean,
    is_future boolean, is_stale boolean, has_missing_fields boolean, is_flagged boolean,
    recording_taken_original text, api_shape text
);
create table marts.plant_daily_summary (
    plant_id bigint, day date, readings bigint, flagged_readings bigint,
    avg_soil_moisture_pct double precision, waterings bigint
);
create table marts.fct_plant_hourly (plant_id bigint, hour_at timestamp, readings bigint);
"""


def raw_row(r: Reading) -> tuple:
    text = recording_text(r.plant_id, r.at)
    payload = json.dumps(
        {
            "plant_id": r.plant_id,
            "recording_taken": text,
            "soil_moisture": r.soil,
            "temperature": r.temp,
            "cycle": "Perennial",
        }
    )
    return (
        r.plant_id,
        text,
        "Wed, 25 Nov 2026 13:54:32 GMT",
        f"Plant {r.plant_id}",
        r.soil,
        r.temp,
        "Carl Linnaeus",
        "carl.linnaeus@lnhm.co.uk",
        "(146)994-1635x35992",
        '["33.95015", "-118.03917", "South Whittier", "US", "America/Los_Angeles"]',
        '["Ficus"]',
        None,
        payload,
        r.at + timedelta(seconds=2),
        f"{r.at:%Y%m%dT%H%M%SZ}-abc123",
        "load",
        f"id-{r.plant_id}-{r.at:%s}",
    )


def fct_row(r: Reading) -> tuple:
    """As the dbt project builds it: reading_id is plant_id|recording_taken as sent."""
    naive = r.at.replace(tzinfo=None)
    text = recording_text(r.plant_id, r.at)
    return (
        f"{r.plant_id}|{text}",
        r.plant_id,
        naive,
        r.soil,
        r.temp,
        datetime(2026, 11, 25, 13, 54, 32),
        naive + timedelta(seconds=2),
        f"{r.at:%Y%m%dT%H%M%SZ}-abc123",
        r.soil < 0,
        False,
        False,
        False,
        False,
        False,
        r.soil < 0,
        text,
        "v1",
    )


def summary_rows(readings: list[Reading]) -> list[tuple]:
    per: dict[tuple[int, date], int] = {}
    for r in readings:
        per[(r.plant_id, r.at.date())] = per.get((r.plant_id, r.at.date()), 0) + 1
    return [(p, d, n, 0, 50.0, 1) for (p, d), n in sorted(per.items())]


# ---------------------------------------------------------------------------- tiers
def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LNHM_", "AWS_", "PG", "LNHM"))}
    env.update(RUNTIME__DLTHUB_TELEMETRY="false", DO_NOT_TRACK="1", LNHM_LOCK_TIMEOUT="5")
    return env


class Tier:
    """A hot store plus an archive target, and independent ways to look into both."""

    def __init__(
        self,
        hot: str,
        target: str,
        tmp: Path,
        postgres_env=None,
        s3=None,
        bucket: str | None = None,
    ):
        self.hot, self.target, self.tmp = hot, target, tmp
        self.env = clean_env()
        (tmp / "tmp").mkdir(exist_ok=True)
        self.env["TMPDIR"] = str(tmp / "tmp")  # a killed run's scratch folder stays in tmp_path
        if hot == "duckdb":
            self.duckdb_path = tmp / "hot.duckdb"
            self.env.update(LNHM_WAREHOUSE="duckdb", LNHM_DUCKDB_PATH=str(self.duckdb_path))
        else:
            self.pg = postgres_env
            self.env.update(LNHM_WAREHOUSE="postgres", **postgres_env)
            self.env["LNHM_DUCKDB_PATH"] = str(tmp / "unused.duckdb")
        if target == "local":
            self.root = tmp / "archive"
            self.env["LNHM_ARCHIVE_URL"] = str(self.root)
        else:
            self.s3 = s3
            self.bucket = bucket or s3.make_bucket()
            self.prefix = "museum/archive"
            self.env.update(s3.env, LNHM_ARCHIVE_URL=f"s3://{self.bucket}/{self.prefix}")

    # hot store ---------------------------------------------------------------
    def execute(self, statements: str, rows: dict[str, list[tuple]] | None = None):
        if self.hot == "duckdb":
            con = duckdb.connect(str(self.duckdb_path))
            con.execute("set timezone = 'UTC'")
            try:
                if statements:
                    con.execute(statements)
                for table, data in (rows or {}).items():
                    if data:  # through Arrow: executemany is slow in DuckDB
                        schema, name = table.split(".")
                        cols = [
                            c
                            for (c,) in con.execute(
                                "select column_name from information_schema.columns where "
                                "table_schema = ? and table_name = ? order by ordinal_position",
                                [schema, name],
                            ).fetchall()
                        ]
                        batch = pa.table({c: [row[i] for row in data] for i, c in enumerate(cols)})
                        con.register("batch", batch)
                        con.execute(f"insert into {table} select * from batch")
                        con.unregister("batch")
            finally:
                con.close()
        else:
            import psycopg2
            from psycopg2.extras import execute_values

            conn = psycopg2.connect(**self._pg_kwargs())
            try:
                with conn, conn.cursor() as cur:
                    if statements:
                        cur.execute(statements)
                    for table, data in (rows or {}).items():
                        if data:
                            execute_values(
                                cur, f"insert into {table} values %s", data, page_size=2000
                            )
            finally:
                conn.close()

    def _pg_kwargs(self) -> dict:
        return {
            "host": self.pg["PGHOST"],
            "port": self.pg["PGPORT"],
            "user": self.pg["PGUSER"],
            "dbname": self.pg["PGDATABASE"],
        }

    def query(self, sql: str) -> list[tuple]:
        if self.hot == "duckdb":
            con = duckdb.connect(str(self.duckdb_path), read_only=True)
            try:
                return con.execute(sql).fetchall()
            finally:
                con.close()
        import psycopg2

        conn = psycopg2.connect(**self._pg_kwargs())
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall()
        finally:
            conn.close()

    def load(
        self,
        readings: list[Reading],
        fails: list[tuple],
        summary: list[tuple] | None = None,
        ddl: bool = True,
    ) -> None:
        self.execute(
            RAW_DDL if ddl else "",
            {
                "raw.plant_readings": [raw_row(r) for r in readings],
                "raw.plant_fetch_failures": [(*f, "load", f"f-{i}") for i, f in enumerate(fails)],
                "marts.fct_readings": [fct_row(r) for r in readings if not not_transformed(r)],
                "marts.plant_daily_summary": summary_rows(readings) if summary is None else summary,
                "marts.fct_plant_hourly": [(1, datetime(2026, 11, 25, h), 6) for h in range(24)],
            },
        )

    def hot_keys(self) -> list[tuple[int, str]]:
        return [
            tuple(r) for r in self.query("select plant_id, recording_taken from raw.plant_readings")
        ]

    def hot_failure_keys(self) -> list[tuple[str, int]]:
        return [
            tuple(r) for r in self.query("select run_id, plant_id from raw.plant_fetch_failures")
        ]

    def count(self, table: str) -> int:
        return self.query(f"select count(*) from {table}")[0][0]

    # archive -----------------------------------------------------------------
    def read(self, key: str) -> bytes | None:
        if self.target == "local":
            path = self.root / key
            return path.read_bytes() if path.exists() else None
        client = self.s3.client()
        try:
            return client.get_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}")["Body"].read()
        except client.exceptions.NoSuchKey:
            return None

    def stored_files(self) -> set[str]:
        if self.target == "local":
            if not self.root.exists():
                return set()
            return {str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file()}
        client = self.s3.client()
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + "/"
        )
        return {o["Key"][len(self.prefix) + 1 :] for p in pages for o in p.get("Contents", [])}

    def manifest(self) -> dict:
        data = self.read("manifest.json")
        return json.loads(data) if data else {"days": {}}

    def archived(self, kind: str) -> pa.Table | None:
        """Rows of every file of ``kind`` that the manifest lists (what readers see)."""
        tables = []
        for entry in self.manifest()["days"].values():
            for key in entry["files"]:
                if key.startswith(kind + "/"):
                    tables.append(pq.read_table(io.BytesIO(self.read(key))))
        return pa.concat_tables(tables, promote_options="default") if tables else None

    def archived_keys(self) -> list[tuple[int, str]]:
        table = self.archived("readings")
        if table is None:
            return []
        return list(
            zip(table["plant_id"].to_pylist(), table["recording_taken"].to_pylist(), strict=True)
        )

    def archived_failure_keys(self) -> list[tuple[str, int]]:
        table = self.archived("fetch_failures")
        if table is None:
            return []
        return list(zip(table["run_id"].to_pylist(), table["plant_id"].to_pylist(), strict=True))

    # the job -----------------------------------------------------------------
    def run(
        self,
        *args: str,
        env: dict | None = None,
        now: datetime = NOW,
        timeout: float = 300,
        crash_at: str | None = None,
    ) -> subprocess.CompletedProcess:
        """``python -m archive``, or with ``crash_at`` the harness's wrapper that kills it there."""
        module = ["harness.crash", "--at", crash_at] if crash_at else ["archive"]
        return subprocess.run(
            [sys.executable, "-m", *module, "--now", now.isoformat(), *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )


@pytest.fixture(params=["duckdb-local", "duckdb-s3", "postgres-local", "postgres-s3"])
def tier(request, tmp_path) -> Tier:
    hot, target = request.param.split("-")
    pg = request.getfixturevalue("postgres_env") if hot == "postgres" else None
    s3 = request.getfixturevalue("s3") if target == "s3" else None
    return Tier(hot, target, tmp_path, postgres_env=pg, s3=s3)


@pytest.fixture
def duck_local(tmp_path) -> Tier:
    return Tier("duckdb", "local", tmp_path)


def assert_exactly_one_tier(tier: Tier, readings: list[Reading], fails: list[tuple]) -> None:
    """Invariant 1: every reading (and failed request) is in the hot store or the archive, once."""
    hot, arch = tier.hot_keys(), tier.archived_keys()
    assert len(hot) == len(set(hot)), "duplicate readings in the hot store"
    assert len(arch) == len(set(arch)), "a reading is archived twice"
    assert not set(hot) & set(arch), "a reading is in both tiers"
    assert set(hot) | set(arch) == {r.key for r in readings}, "a reading was lost"
    hot_f, arch_f = tier.hot_failure_keys(), tier.archived_failure_keys()
    assert len(arch_f) == len(set(arch_f))
    assert not set(hot_f) & set(arch_f)
    assert set(hot_f) | set(arch_f) == {(f[7], f[0]) for f in fails}


def expected_archive(readings, fails):
    """Per archivable day: readings and failed requests, computed from the generator."""
    per_day = {d: [r for r in readings if r.at.date() == d] for d in ARCHIVABLE}
    fails_day = {d: [f for f in fails if f[6].date() == d] for d in ARCHIVABLE}
    return per_day, fails_day


# ---------------------------------------------------------------------------- behaviour
def test_archives_whole_old_days_verifies_and_prunes(tier):
    readings, fails = history(), failures()
    tier.load(readings, fails)
    result = tier.run()
    assert result.returncode == 0, result.stderr

    per_day, fails_day = expected_archive(readings, fails)
    manifest = tier.manifest()
    assert sorted(manifest["days"]) == [d.isoformat() for d in ARCHIVABLE]
    assert manifest["days"]["2026-11-25"]["label"] == "Wed 25 Nov 2026"
    assert manifest["days"]["2026-11-26"]["label"] == "Thu 26 Nov 2026"
    for d in ARCHIVABLE:
        entry = manifest["days"][d.isoformat()]
        assert entry["readings"] == len(per_day[d]) == (5 * 144 + (1 if d.day == 25 else 0))
        assert entry["fetch_failures"] == len(fails_day[d]) == 3
        assert entry["readings_bytes"] > 0
        assert sorted(f.split("/")[0] for f in entry["files"]) == ["fetch_failures", "readings"]
        assert all(f"/day={d.isoformat()}/" in f and f.endswith(".parquet") for f in entry["files"])
    # Only listed files remain: no staging leftovers, no second copy.
    assert tier.stored_files() == {"manifest.json"} | {
        f for e in manifest["days"].values() for f in e["files"]
    }

    assert_exactly_one_tier(tier, readings, fails)
    old = {r.key for d in ARCHIVABLE for r in per_day[d]}
    assert set(tier.archived_keys()) == old
    # Hot marts: per-reading rows of archived days pruned, the rest and long-lived marts kept.
    kept = [r for r in readings if r.at.date() not in ARCHIVABLE]
    assert tier.count("marts.fct_readings") == len([r for r in kept if not not_transformed(r)])
    assert tier.count("raw.plant_fetch_failures") == 6
    assert tier.count("marts.plant_daily_summary") == len(summary_rows(readings))
    assert tier.count("marts.fct_plant_hourly") == 24

    # Archived rows carry raw fields and the cleaned values; untransformed ones null-cleaned.
    table = tier.archived("readings").to_pylist()
    columns = set(table[0])
    assert {
        "payload",
        "recording_taken",
        "origin_location",
        "botanist__phone",
        "fetched_at",
        "run_id",
        "reading_id",
        "recorded_at",
        "soil_moisture_pct",
        "is_flagged",
    } <= columns
    assert not any(c.startswith("_dlt") for c in columns) and "day" not in columns
    by_key = {(row["plant_id"], row["recording_taken"]): row for row in table}
    for r in readings:
        if r.at.date() not in ARCHIVABLE:
            continue
        row = by_key[r.key]
        assert row["soil_moisture"] == r.soil
        if not_transformed(r):
            assert row["reading_id"] is None and row["soil_moisture_pct"] is None
        else:
            assert row["reading_id"] == f"{r.plant_id}|{r.key[1]}"
            assert row["soil_moisture_pct"] == r.soil and row["temperature_c"] == r.temp
            assert row["recorded_at"] == r.at.replace(tzinfo=None)
    assert json.loads(result.stdout.strip().splitlines()[-1])["counts"]["readings"] == len(old)


def test_running_twice_archives_once(tier):
    readings, fails = history(), failures()
    tier.load(readings, fails)
    assert tier.run().returncode == 0
    first = tier.manifest()
    files = tier.stored_files()
    second = tier.run()
    assert second.returncode == 0, second.stderr
    assert "nothing to archive" in second.stderr or "0 readings" not in second.stderr
    assert tier.manifest()["days"] == first["days"]
    assert tier.stored_files() == files
    record = json.loads(second.stdout.strip().splitlines()[-1])
    assert record["outcome"] == "ok" and record["counts"]["days_archived"] == 0
    assert_exactly_one_tier(tier, readings, fails)


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_killed_at_any_step_then_rerun_keeps_every_reading_once(tier, point):
    readings, fails = history(), failures()
    tier.load(readings, fails)
    crashed = tier.run(crash_at=point)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert f"kill -9 at {point}" in crashed.stderr
    assert crashed.stdout == ""  # killed before the job could print its JSON line
    # Right after the kill nothing is lost (both tiers may briefly hold the same day).
    hot, arch = set(tier.hot_keys()), set(tier.archived_keys())
    assert hot | arch == {r.key for r in readings}
    if point in ("staged", "verified"):
        assert tier.manifest()["days"] == {} and len(hot) == len(readings)
    rerun = tier.run()
    assert rerun.returncode == 0, rerun.stderr
    assert_exactly_one_tier(tier, readings, fails)
    per_day, _ = expected_archive(readings, fails)
    manifest = tier.manifest()
    for d in ARCHIVABLE:
        assert manifest["days"][d.isoformat()]["readings"] == len(per_day[d])
    assert tier.stored_files() == {"manifest.json"} | {
        f for e in manifest["days"].values() for f in e["files"]
    }


def test_the_product_has_no_crash_variable(duck_local):
    """The crash points are injected by harness/crash.py; the job itself reads no test hook."""
    readings, fails = history(), failures()
    duck_local.load(readings, fails)
    result = duck_local.run(env={"LNHM_ARCHIVE_CRASH_AT": "verified"})
    assert result.returncode == 0, result.stderr
    assert_exactly_one_tier(duck_local, readings, fails)


@pytest.mark.parametrize("after_lines", [0, 1, 2, 3])
def test_sigkill_at_progress_points_then_rerun(duck_local, after_lines):
    """A real kill -9 right after the n-th progress line; the rerun ends in the same state."""
    tier = duck_local
    readings, fails = history(), failures()
    tier.load(readings, fails)
    proc = subprocess.Popen(
        [sys.executable, "-m", "archive", "--now", NOW.isoformat()],
        cwd=ROOT,
        env=tier.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    for _ in range(after_lines):
        proc.stderr.readline()
    if after_lines == 0:
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert set(tier.hot_keys()) | set(tier.archived_keys()) == {r.key for r in readings}
    rerun = tier.run()
    assert rerun.returncode == 0, rerun.stderr
    assert_exactly_one_tier(tier, readings, fails)
    assert sorted(tier.manifest()["days"]) == [d.isoformat() for d in ARCHIVABLE]


def test_late_readings_replace_the_days_partition(tier):
    readings, fails = history(), failures()
    tier.load(readings, fails)
    assert tier.run().returncode == 0
    old_files = set(tier.manifest()["days"]["2026-11-26"]["files"])
    late = [Reading(6, datetime(2026, 11, 26, 9, m, tzinfo=UTC), 55.0, 12.0) for m in range(5)]
    late_fail = [
        (
            9,
            500,
            "sensor_fault",
            "plant sensor fault",
            None,
            2,
            datetime(2026, 11, 26, 20, 0, tzinfo=UTC),
            "20261126T200000Z-late",
        )
    ]
    tier.load(late, late_fail, summary=[(6, date(2026, 11, 26), 5, 0, 55.0, 0)], ddl=False)
    result = tier.run()
    assert result.returncode == 0, result.stderr
    entry = tier.manifest()["days"]["2026-11-26"]
    assert entry["readings"] == 5 * 144 + 5
    assert entry["fetch_failures"] == 4
    assert len([f for f in entry["files"] if f.startswith("readings/")]) == 1
    assert not old_files & set(entry["files"]), "the day's partition was not replaced"
    assert not old_files & tier.stored_files(), "old files of the day were left behind"
    assert tier.manifest()["days"]["2026-11-25"]["readings"] == 5 * 144 + 1
    assert_exactly_one_tier(tier, readings + late, fails + late_fail)


def test_day_not_covered_by_daily_summary_is_skipped_and_kept_hot(tier):
    readings, fails = history(), failures()
    summary = [
        row for row in summary_rows(readings) if not (row[1] == date(2026, 11, 25) and row[0] == 3)
    ]
    tier.load(readings, fails, summary=summary)
    result = tier.run()
    assert result.returncode == 0, result.stderr
    assert "SKIPPING 2026-11-25" in result.stderr
    assert "plant_daily_summary" in result.stderr
    assert sorted(tier.manifest()["days"]) == ["2026-11-26"]
    day25 = {r.key for r in readings if r.at.date() == date(2026, 11, 25)}
    assert day25 <= set(tier.hot_keys())
    assert_exactly_one_tier(tier, readings, fails)


def test_day_with_stale_daily_summary_is_skipped(duck_local):
    readings, fails = history(), failures()
    summary = [
        (p, d, 100 if (p, d) == (2, date(2026, 11, 26)) else n, *rest)
        for p, d, n, *rest in summary_rows(readings)
    ]
    duck_local.load(readings, fails, summary=summary)
    result = duck_local.run()
    assert result.returncode == 0, result.stderr
    assert "SKIPPING 2026-11-26" in result.stderr and "fewer readings" in result.stderr
    assert sorted(duck_local.manifest()["days"]) == ["2026-11-25"]
    assert_exactly_one_tier(duck_local, readings, fails)


def test_joins_cleaned_values_by_time_when_fct_lacks_the_original_text(duck_local):
    """A fct_readings without recording_taken_original is matched on plant_id + recorded_at."""
    readings, fails = history(), failures()
    duck_local.load(readings, fails)
    duck_local.execute("alter table marts.fct_readings drop column recording_taken_original")
    result = duck_local.run()
    assert result.returncode == 0, result.stderr
    rows = duck_local.archived("readings").to_pylist()
    matched = [row for row in rows if row["reading_id"] is not None]
    assert len(matched) == len(rows) - 12
    assert all(
        row["reading_id"] == f"{row['plant_id']}|{row['recording_taken']}" for row in matched
    )
    kept = [r for r in readings if r.at.date() not in ARCHIVABLE and not not_transformed(r)]
    assert duck_local.count("marts.fct_readings") == len(kept)
    assert_exactly_one_tier(duck_local, readings, fails)


def test_dry_run_changes_nothing(duck_local):
    readings, fails = history(), failures()
    duck_local.load(readings, fails)
    result = duck_local.run("--dry-run")
    assert result.returncode == 0, result.stderr
    assert "would archive 2026-11-25" in result.stderr
    assert "would archive 2026-11-27" not in result.stderr
    assert duck_local.count("raw.plant_readings") == len(readings)
    assert duck_local.manifest()["days"] == {}


def test_waits_for_the_writer_lock_then_skips(duck_local):
    from lnhm.locking import writer_lock
    from lnhm.settings import from_env

    duck_local.load(history(), failures())
    settings = from_env({**duck_local.env, "LNHM_LOCK_TIMEOUT": "1"})
    with writer_lock(settings, job="test"):
        result = duck_local.run(env={"LNHM_LOCK_TIMEOUT": "1"})
    assert result.returncode == 75
    assert result.stderr.strip().count("\n") == 0 and "skipped" in result.stderr
    assert duck_local.count("raw.plant_readings") == len(history())


# ---------------------------------------------------------------------------- S3 failures
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_with_auth():
    """A moto server that checks credentials (the shared one accepts any)."""
    import boto3

    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
        assert time.monotonic() < deadline and proc.poll() is None, "moto did not start"
        time.sleep(0.1)
    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="boot",
        aws_secret_access_key="boot",
    )
    iam.create_user(UserName="archive")
    key = iam.create_access_key(UserName="archive")["AccessKey"]
    iam.put_user_policy(
        UserName="archive",
        PolicyName="s3",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    )
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        "AWS_REGION": "us-east-1",
    }
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    ).create_bucket(Bucket="lnhm-auth")
    yield env
    proc.terminate()
    proc.wait(10)


@pytest.fixture(params=["duckdb", "postgres"])
def hot_only(request, tmp_path) -> Tier:
    pg = request.getfixturevalue("postgres_env") if request.param == "postgres" else None
    tier = Tier(request.param, "local", tmp_path, postgres_env=pg)
    tier.load(history(), failures())
    return tier


def _assert_refused(tier: Tier, env: dict, words: tuple[str, ...]):
    result = tier.run(env=env, timeout=120)
    assert result.returncode not in (0, 75), result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert all(w.lower() in lines[0].lower() for w in words), lines[0]
    assert tier.count("raw.plant_readings") == len(history())
    assert tier.count("raw.plant_fetch_failures") == len(failures())
    assert tier.count("marts.fct_readings") == len([r for r in history() if not not_transformed(r)])
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert record["outcome"] == "failed"


def test_s3_unreachable_deletes_nothing(hot_only):
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{_free_port()}",
        "AWS_ACCESS_KEY_ID": "a",
        "AWS_SECRET_ACCESS_KEY": "b",
        "AWS_REGION": "us-east-1",
        "LNHM_ARCHIVE_URL": "s3://lnhm-archive/x",
    }
    _assert_refused(hot_only, env, ("unreachable", "127.0.0.1"))


def test_s3_bad_credentials_delete_nothing(hot_only, s3_with_auth):
    env = {
        **s3_with_auth,
        "AWS_SECRET_ACCESS_KEY": "not-the-secret",
        "LNHM_ARCHIVE_URL": "s3://lnhm-auth/archive",
    }
    _assert_refused(hot_only, env, ("credentials",))
    env = {
        **s3_with_auth,
        "AWS_ACCESS_KEY_ID": "AKIAUNKNOWN000000000",
        "LNHM_ARCHIVE_URL": "s3://lnhm-auth/archive",
    }
    _assert_refused(hot_only, env, ("credentials",))


def test_s3_missing_bucket_deletes_nothing(hot_only, s3):
    env = {**s3.env, "LNHM_ARCHIVE_URL": "s3://lnhm-no-such-bucket/archive"}
    _assert_refused(hot_only, env, ("lnhm-no-such-bucket", "does not exist"))


def test_s3_with_good_credentials_on_the_checking_server(tmp_path, s3_with_auth):
    """The same server as the bad-credential test accepts the right key: the test can fail."""
    tier = Tier("duckdb", "local", tmp_path)
    tier.env.update(s3_with_auth, LNHM_ARCHIVE_URL="s3://lnhm-auth/good")
    tier.load(history(), failures())
    result = tier.run()
    assert result.returncode == 0, result.stderr
    assert tier.count("raw.plant_readings") == len(history()) - (2 * 5 * 144 + 1)


# ---------------------------------------------------------------------------- units
def test_manifest_labels():
    from archive.manifest import label

    assert label(date(2023, 8, 31)) == "Thu 31 Aug 2023"
    assert label(date(2026, 11, 1)) == "Sun 01 Nov 2026"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2023-08-31 13:54:32", datetime(2023, 8, 31, 13, 54, 32)),
        ("Wed, 30 Aug 2023 13:54:32 GMT", datetime(2023, 8, 30, 13, 54, 32)),
        ("2025-02-04T23:59:59.999Z", datetime(2025, 2, 4, 23, 59, 59, 999000)),
        ("2026-02-04T10:00:00.123456", datetime(2026, 2, 4, 10, 0, 0, 123456)),
        ("2026-02-05T00:30:00+01:00", datetime(2026, 2, 4, 23, 30)),
        ("not a time", None),
    ],
)
def test_every_api_time_format_is_parsed_to_utc(text, expected):
    from archive import sql

    con = duckdb.connect()
    con.execute("set timezone = 'UTC'")
    assert con.execute(f"select {sql.parse_time('$1')}", [text]).fetchone()[0] == expected
