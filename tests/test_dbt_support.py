"""Helpers for the dbt tests and bench/bench_transform.py: run dbt and the ingest backfill on a
private warehouse (a temp DuckDB file or a fresh PostgreSQL database), query it, and prune it
the way the archive job does. The few tests here pin the helpers' own independent logic."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

from lnhm.transform import FULL_BUILD, SCHEDULED_BUILD, dbt_environment

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DBT = BIN / "dbt"


@dataclass
class Warehouse:
    """One private hot store: `target` is the dbt target, `env` the variables that reach it."""

    target: str
    env: dict[str, str]
    target_path: Path
    log_path: Path
    duckdb_path: Path | None = None
    timings: list[float] = field(default_factory=list)
    built: bool = False  # a build of every node succeeded (the seeds and views are in place)

    @classmethod
    def duckdb(cls, tmp: Path) -> Warehouse:
        path = tmp / "hot.duckdb"
        env = {"LNHM_WAREHOUSE": "duckdb", "LNHM_DUCKDB_PATH": str(path)}
        return cls("duckdb", env, tmp / "dbt-target", tmp / "dbt-logs", duckdb_path=path)

    @classmethod
    def postgres(cls, tmp: Path, pg_env: dict[str, str]) -> Warehouse:
        env = {"LNHM_WAREHOUSE": "postgres", **pg_env}
        return cls("postgres", env, tmp / "dbt-target", tmp / "dbt-logs")

    # ------------------------------------------------------------------ processes
    def process_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "LNHM_"))}
        env.update(self.env)
        env.update(
            DO_NOT_TRACK="1",
            RUNTIME__DLTHUB_TELEMETRY="false",
            DBT_TARGET_PATH=str(self.target_path),
            DBT_LOG_PATH=str(self.log_path),
        )
        return env

    def dbt(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run dbt like `make transform` does (no --vars), on this warehouse's target."""
        command = [str(DBT), *args, "--profiles-dir", str(REPO), "--target", self.target]
        started = time.perf_counter()
        env = dbt_environment(self.process_env())
        result = subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, check=False
        )
        self.timings.append(time.perf_counter() - started)
        if check and result.returncode != 0:
            tail = "\n".join(result.stdout.splitlines()[-60:])
            raise AssertionError(f"dbt {' '.join(args)} failed ({result.returncode}):\n{tail}")
        return result

    def build(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """The dbt build `make transform` runs: every node the first time (FULL_BUILD), then the
        scheduled build, which leaves out the seeds and views already in place."""
        result = self.dbt(*(SCHEDULED_BUILD if self.built else FULL_BUILD), *args, check=check)
        self.built = self.built or result.returncode == 0
        return result

    def run_results(self) -> list[dict]:
        return json.loads((self.target_path / "run_results.json").read_text())["results"]

    def backfill(
        self,
        hours: float,
        end: datetime,
        plants: int | None = None,
        shape: str = "v1",
        temperature_offsets: tuple[str, ...] = (),
    ) -> None:
        """Simulated minutely polls ending at `end`, loaded by the ingest job into raw
        (`temperature_offsets`: the simulator's heating fault scenarios, ID=START/HOURS/DELTA)."""
        command = [
            str(BIN / "python"),
            "-m",
            "harness.backfill",
            "--hours",
            str(hours),
            "--end",
            end.strftime("%Y-%m-%dT%H:%M:%S"),
            "--shape",
            shape,
        ]
        if plants:
            command += ["--plants", str(plants)]
        command += [f"--temperature-offset={offset}" for offset in temperature_offsets]
        result = subprocess.run(
            command, cwd=REPO, env=self.process_env(), capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise AssertionError(f"backfill failed: {result.stderr[-3000:]}")

    # ------------------------------------------------------------------ SQL
    def _connect(self):
        if self.target == "duckdb":
            import duckdb

            con = duckdb.connect(str(self.duckdb_path))
            con.execute("set TimeZone = 'UTC'")
            return con
        import psycopg2

        con = psycopg2.connect(
            host=self.env["PGHOST"],
            port=self.env["PGPORT"],
            user=self.env["PGUSER"],
            password=self.env.get("PGPASSWORD") or None,
            dbname=self.env["PGDATABASE"],
        )
        with con.cursor() as cur:
            cur.execute("set timezone = 'UTC'")
        return con

    def query(self, sql: str) -> list[tuple]:
        con = self._connect()
        try:
            if self.target == "duckdb":
                return con.execute(sql).fetchall()
            with con.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall()
        finally:
            con.close()

    def execute(self, *statements: str) -> None:
        con = self._connect()
        try:
            if self.target == "duckdb":
                for statement in statements:
                    con.execute(statement)
            else:
                with con.cursor() as cur:
                    for statement in statements:
                        cur.execute(statement)
                con.commit()
        finally:
            con.close()

    def maintain(self, statement: str) -> None:
        """A statement that must run outside a transaction (PostgreSQL's VACUUM)."""
        con = self._connect()
        try:
            if self.target == "duckdb":
                con.execute(statement)
            else:
                con.commit()
                con.autocommit = True
                with con.cursor() as cur:
                    cur.execute(statement)
        finally:
            con.close()

    def scalar(self, sql: str):
        return self.query(sql)[0][0]

    # ------------------------------------------------------------------ the archive's prune
    def prune_before(self, cutoff: date) -> tuple[int, int]:
        """Delete what the archive job deletes once days before `cutoff` are archived: raw
        readings and fct_readings rows recorded before it, failures fetched before it."""
        day = f"date '{cutoff.isoformat()}'"
        before = self.scalar(f"select count(*) from marts.fct_readings where recorded_at < {day}")
        self.execute(
            "delete from raw.plant_readings where cast(plant_id as varchar) || '|' || "
            "recording_taken in (select reading_id from marts.fct_readings "
            f"where recorded_at < {day})",
            f"delete from marts.fct_readings where recorded_at < {day}",
            f"delete from raw.plant_fetch_failures where fetched_at < {day}",
        )
        return before, self.scalar("select count(*) from raw.plant_readings")


# ---------------------------------------------------------------------- independent parsing
def parse_api_time(text: str | None) -> datetime | None:
    """The API's timestamp formats, parsed in Python (independently of the SQL macro)."""
    if text is None:
        return None
    text = text.strip()
    try:
        if re.match(r"^[A-Za-z]{3}, ", text):
            return parsedate_to_datetime(text).astimezone(UTC).replace(tzinfo=None)
        value = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def clean_name(name: str | None, scientific: str | None = None) -> str | None:
    """The plant-name rule, in Python."""
    if name is None or not name.strip():
        return None
    text = name.replace("\u2018", "'").replace("\u2019", "'").replace("\u201c", '"')
    text = text.replace("\u201d", '"')
    text = re.sub(r"[\s,.;:!/-]+$", "", re.sub(r"\s+", " ", text).strip())
    if scientific:
        scientific = scientific.strip().replace("\u2018", "'").replace("\u2019", "'")
        if (scientific.lower() + " ").startswith(text.lower() + " "):
            return scientific[: len(text)]
    if text == text.lower():
        return text[:1].upper() + text[1:]
    return text


def utc_minute(value: datetime | None = None) -> datetime:
    value = value or datetime.now(UTC)
    return value.astimezone(UTC).replace(second=0, microsecond=0, tzinfo=None)


def test_python_parser_reads_every_api_format():
    assert parse_api_time("Wed, 30 Aug 2023 13:54:32 GMT") == datetime(2023, 8, 30, 13, 54, 32)
    assert parse_api_time("2023-08-31 08:48:36") == datetime(2023, 8, 31, 8, 48, 36)
    assert parse_api_time("2025-02-04T10:00:00.123Z") == datetime(2025, 2, 4, 10, 0, 0, 123000)
    assert parse_api_time("2026-01-01T10:00:00.123456") == datetime(2026, 1, 1, 10, 0, 0, 123456)
    assert parse_api_time("2025-02-04T10:00:00+01:00") == datetime(2025, 2, 4, 9)
    assert parse_api_time("yesterday") is None


def test_python_name_rule_matches_the_documented_examples():
    assert clean_name("Dragon tree,") == "Dragon tree"
    assert clean_name("Canna ‘Striata’") == "Canna 'Striata'"
    assert clean_name("Bird of paradise") == "Bird of paradise"
    assert clean_name("Rafflesia arnoldii") == "Rafflesia arnoldii"
    assert clean_name("Euphorbia Cotinifolia", "Euphorbia cotinifolia") == "Euphorbia cotinifolia"
    assert clean_name("Chlorophytum Comosum", "Chlorophytum comosum 'Vittatum'") == (
        "Chlorophytum comosum"
    )
    assert clean_name("Ficus", "Ficus carica") == "Ficus"
    assert clean_name("venus flytrap") == "Venus flytrap"
    assert clean_name("  ") is None
    assert utc_minute(datetime(2026, 1, 1, 10, 5, 7, tzinfo=UTC)) + timedelta(minutes=1) == (
        datetime(2026, 1, 1, 10, 6)
    )
