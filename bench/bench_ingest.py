"""Ingest benchmark: this ingest vs the original project's approach, measured side by side.

1. one 50-plant poll, simulator with realistic latency (0.3-1.0 s per request):
   `python -m ingest poll` vs a naive loop (requests.get per plant, one INSERT + commit per
   reading, as the original project did);
2. one poll of 10,000 plants (simulator --plants 10000, realistic latency);
3. backfill rows/s (`python -m harness.backfill`) vs PostgreSQL COPY of the same rows
   (psycopg2 copy_expert), and the backfill on DuckDB.

PostgreSQL: the PG* variables of a running server, else a private one started with
harness.services (needs PostgreSQL 15 binaries); without either the PostgreSQL parts are skipped.
Environment: BENCH_HOURS (backfill hours, default 48), BENCH_BIG_PLANTS (10000),
BENCH_BIG_CONCURRENCY (default: the ingest's own default).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from harness import services
from lnhm.settings import from_env

ROOT = services.ROOT
HOURS = float(os.environ.get("BENCH_HOURS", "48"))
BIG_PLANTS = int(os.environ.get("BENCH_BIG_PLANTS", "10000"))
# unset: the default (one request in flight per plant, at most 1,000)
BIG_CONCURRENCY = os.environ.get("BENCH_BIG_CONCURRENCY", "")
NAIVE_DDL = """
create table if not exists naive_readings (
    plant_id bigint, recording_taken text, last_watered text, name text,
    soil_moisture double precision, temperature double precision, botanist_name text,
    botanist_email text, botanist_phone text, origin_location text, payload text,
    fetched_at timestamptz, primary key (plant_id, recording_taken))
"""


def ingest(env: dict, *args: str) -> tuple[float, dict]:
    """Run `python -m ingest poll` (or, for "backfill", `python -m harness.backfill`) as cron
    would; (wall seconds, its JSON job line)."""
    full_env = {**os.environ, "RUNTIME__DLTHUB_TELEMETRY": "false", **env}
    module = ["harness.backfill", *args[1:]] if args[:1] == ("backfill",) else ["ingest", *args]
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", *module],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"ingest {' '.join(args)} failed: {result.stderr.strip()}")
    return wall, json.loads(result.stdout.strip().splitlines()[-1])


def naive_poll(url: str, plant_ids, connect) -> tuple[float, int]:
    """The original project's loop: one GET, then one INSERT and one commit per reading."""
    con = connect()
    cur = con.cursor()
    cur.execute(NAIVE_DDL)
    con.commit()
    started = time.perf_counter()
    readings = 0
    session = requests.Session()
    for pid in plant_ids:
        try:
            response = session.get(f"{url}/plants/{pid}", timeout=5)
            data = response.json()
        except (requests.RequestException, ValueError):
            continue
        if response.status_code != 200 or "recording_taken" not in data:
            continue
        botanist = data.get("botanist") or {}
        cur.execute(
            "insert into naive_readings values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
            "now()) on conflict do nothing",
            (
                data["plant_id"],
                data["recording_taken"],
                data.get("last_watered"),
                data.get("name"),
                data.get("soil_moisture"),
                data.get("temperature"),
                botanist.get("name"),
                botanist.get("email"),
                botanist.get("phone"),
                json.dumps(data.get("origin_location")),
                response.text,
            ),
        )
        con.commit()
        readings += 1
    elapsed = time.perf_counter() - started
    con.close()
    return elapsed, readings


def start_postgres():
    """(PG* env, server to stop or None), or (None, None) when no PostgreSQL is available."""
    if os.environ.get("PGHOST") or os.environ.get("PGPORT"):
        keys = ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE")
        return {k: os.environ[k] for k in keys if k in os.environ}, None
    try:
        server = services.start_postgres()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        print(f"note: no PostgreSQL ({exc}); PostgreSQL parts skipped")
        return None, None
    return server, server


def pg_database(pg) -> dict:
    """A fresh database on a server we started, or the given PG* env as is."""
    return pg.new_database("bench") if hasattr(pg, "new_database") else dict(pg)


def psycopg2_connect(env: dict):
    import psycopg2

    return psycopg2.connect(from_env(env).postgres_dsn())


def copy_same_rows(env: dict) -> tuple[int, float]:
    """COPY raw.plant_readings' rows (every column, as CSV already in memory) into a new table."""
    con = psycopg2_connect(env)
    cur = con.cursor()
    buffer = io.StringIO()
    cur.copy_expert("copy raw.plant_readings to stdout with (format csv)", buffer)
    cur.execute("create table copy_readings (like raw.plant_readings including defaults)")
    cur.execute("select count(*) from raw.plant_readings")
    rows = cur.fetchone()[0]
    con.commit()
    buffer.seek(0)
    started = time.perf_counter()
    cur.copy_expert("copy copy_readings from stdin with (format csv)", buffer)
    con.commit()
    elapsed = time.perf_counter() - started
    con.close()
    return rows, elapsed


def main() -> int:
    figures: list[tuple[str, str]] = []
    load1, _, _ = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load1:.1f} at start")
    work = Path(tempfile.mkdtemp(prefix="lnhm-bench-ingest-"))
    pg, pg_server = start_postgres()
    sims = []
    try:
        sim = services.start_simulator("--latency", "realistic", "--plants", "50")
        sims.append(sim)
        base = {"LNHM_API_URL": sim.url, "LNHM_PLANT_IDS": "1-50"}

        # 1. one 50-plant poll: this ingest vs the naive loop
        duck_env = {
            **base,
            "LNHM_WAREHOUSE": "duckdb",
            "LNHM_DUCKDB_PATH": str(work / "poll.duckdb"),
        }
        ingest(duck_env, "poll")  # first run creates the tables; time the steady state
        wall, record = ingest(duck_env, "poll")
        c = record["counts"]
        print(
            f"ingest poll, 50 plants, DuckDB:     {wall:6.2f} s wall "
            f"(HTTP {c['poll_s']:.2f} s, load {c['load_s']:.2f} s, {c['readings']} readings)"
        )
        if pg is not None:
            pg_env = {
                **base,
                "LNHM_WAREHOUSE": "postgres",
                **pg_database(pg),
                "LNHM_DUCKDB_PATH": str(work / "pg-poll" / "unused.duckdb"),
            }
            ingest(pg_env, "poll")
            pg_wall, record = ingest(pg_env, "poll")
            c = record["counts"]
            print(
                f"ingest poll, 50 plants, PostgreSQL: {pg_wall:6.2f} s wall "
                f"(HTTP {c['poll_s']:.2f} s, load {c['load_s']:.2f} s)"
            )
            naive_env = pg_database(pg)
            naive_s, naive_n = naive_poll(
                sim.url, range(1, 51), lambda: psycopg2_connect(naive_env)
            )
            target = "PostgreSQL"
            ours = pg_wall
        else:
            import duckdb

            path = str(work / "naive.duckdb")
            naive_s, naive_n = naive_poll(sim.url, range(1, 51), lambda: duckdb.connect(path))
            target = "DuckDB"
            ours = wall
        print(
            f"naive sequential poll ({target}):     {naive_s:6.2f} s ({naive_n} readings, "
            "one INSERT + commit each)"
        )
        figures.append(("50-plant poll: naive / this ingest (wall)", f"{naive_s / ours:.1f}x"))

        # 2. one poll of 10,000 plants
        big = services.start_simulator("--latency", "realistic", "--plants", str(BIG_PLANTS))
        sims.append(big)
        big_env = {
            "LNHM_API_URL": big.url,
            "LNHM_PLANT_IDS": f"1-{BIG_PLANTS}",
            **({"LNHM_HTTP_CONCURRENCY": BIG_CONCURRENCY} if BIG_CONCURRENCY else {}),
            "LNHM_WAREHOUSE": "duckdb",
            "LNHM_DUCKDB_PATH": str(work / "big.duckdb"),
        }
        wall, record = ingest(big_env, "poll")
        c = record["counts"]
        print(
            f"ingest poll, {BIG_PLANTS} plants (concurrency {BIG_CONCURRENCY or 'default'}), "
            "DuckDB: "
            f"{wall:.2f} s wall (HTTP {c['poll_s']:.2f} s, load {c['load_s']:.2f} s), "
            f"{c['readings']} readings, failures {c['failures_by_kind']}"
        )
        estimate = BIG_PLANTS * (naive_s / max(naive_n, 1))
        print(f"  naive loop estimate for {BIG_PLANTS} plants: {estimate:,.0f} s")
        figures.append((f"{BIG_PLANTS}-plant poll wall time", f"{wall:.1f} s"))

        # 3. backfill rows/s: DuckDB, PostgreSQL, and PostgreSQL COPY of the same rows
        args = (
            "backfill",
            "--hours",
            f"{HOURS:g}",
            "--end",
            "2026-11-26T00:00:00",
            "--plants",
            "50",
        )
        bf_env = {"LNHM_WAREHOUSE": "duckdb", "LNHM_DUCKDB_PATH": str(work / "backfill.duckdb")}
        wall, record = ingest(bf_env, *args)
        n = record["counts"]["readings"]
        print(
            f"backfill {HOURS:g} h x 50 plants, DuckDB: {n} readings in {wall:.2f} s wall "
            f"= {n / wall:,.0f} readings/s ({60 * n / wall:,.0f} per minute)"
        )
        figures.append(("backfill DuckDB readings/s", f"{n / wall:,.0f}"))
        if pg is not None:
            env = {
                "LNHM_WAREHOUSE": "postgres",
                **pg_database(pg),
                "LNHM_DUCKDB_PATH": str(work / "pg-backfill" / "unused.duckdb"),
            }
            wall, record = ingest(env, *args)
            c = record["counts"]
            n = c["readings"]
            rows, copy_s = copy_same_rows(env)
            load_rows = n + c["failures"] + c["polls"]  # readings, failures and run rows
            print(
                f"backfill {HOURS:g} h x 50 plants, PostgreSQL: {n} readings in {wall:.2f} s "
                f"wall = {n / wall:,.0f} readings/s (simulate+extract {c['extract_s']:.2f} s, "
                f"normalize {c['normalize_s']:.2f} s, load {c['load_s']:.2f} s for {load_rows} "
                "rows: COPY into staging + merge)"
            )
            print(
                f"PostgreSQL COPY of the same {rows} reading rows (CSV in memory, no merge): "
                f"{copy_s:.2f} s = {rows / copy_s:,.0f} rows/s"
            )
            figures.append(("backfill PostgreSQL readings/s (end to end)", f"{n / wall:,.0f}"))
            figures.append(
                ("bare COPY rows/s / backfill readings/s", f"{(rows / copy_s) / (n / wall):.1f}x")
            )
            figures.append(
                (
                    "bare COPY rows/s / backfill load step rows/s",
                    f"{(rows / copy_s) / (load_rows / c['load_s']):.1f}x",
                )
            )
        else:
            print("note: PostgreSQL COPY comparison skipped (no PostgreSQL)")
    finally:
        for sim in sims:
            sim.stop()
        if pg_server is not None:
            pg_server.stop()
    load1, _, _ = os.getloadavg()
    print(f"\nratios (load average {load1:.1f} at the end):")
    for name, value in figures:
        print(f"  {name:45s} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
