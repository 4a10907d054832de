"""`python -m ingest` against the simulator, on DuckDB and on PostgreSQL.

Expectations come from the simulator's model (`PlantsSimulator.respond`) and the reference's
rules (ids 1-50 minus 7 and 43), never from the ingest code itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness.services import ROOT, free_port
from harness.simulator.model import PlantsSimulator, SimulatorConfig
from ingest.rows import READING_SCHEMA, api_body
from lnhm.locking import writer_lock
from lnhm.settings import from_env

START = "2026-11-26T00:00:00"
AT = datetime(2026, 11, 26, tzinfo=UTC)
FIXED_CLOCK = ("--start", START, "--speed", "1e-9")  # every request answers at START
DISPLAYED = [i for i in range(1, 51) if i not in (7, 43)]


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request, tmp_path) -> dict[str, str]:
    """Environment for a fresh, empty hot store of each kind."""
    env = {
        "LNHM_WAREHOUSE": request.param,
        "LNHM_DUCKDB_PATH": str(tmp_path / "lnhm.duckdb"),
        "LNHM_HTTP_TIMEOUT": "1",
        "LNHM_LOCK_TIMEOUT": "5",
    }
    if request.param == "postgres":
        env.update(request.getfixturevalue("postgres_env"))
    return env


def ingest(env: dict, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """`python -m ingest poll`, or with args ("backfill", ...) the harness's simulated backfill."""
    full_env = {**os.environ, "RUNTIME__DLTHUB_TELEMETRY": "false", **env}
    module = ["harness.backfill", *args[1:]] if args[:1] == ("backfill",) else ["ingest", "poll"]
    return subprocess.run(
        [sys.executable, "-m", *module],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def raw_bodies(env: dict) -> dict[int, str]:
    """The API bodies rebuilt from every stored row of raw.plant_readings, by plant."""
    columns = [f.name for f in READING_SCHEMA]
    rows = query(env, f"select {', '.join(columns)} from raw.plant_readings")
    return {row[0]: api_body(dict(zip(columns, row, strict=True))) for row in rows}


def query(env: dict, sql: str) -> list[tuple]:
    """Run `sql` (tables as raw.<name>) on the hot store described by `env`."""
    if env["LNHM_WAREHOUSE"] == "duckdb":
        import duckdb

        with duckdb.connect(env["LNHM_DUCKDB_PATH"], read_only=True) as con:
            return con.execute(sql).fetchall()
    import psycopg2

    con = psycopg2.connect(from_env(env).postgres_dsn())
    try:
        with con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        con.close()


def ok(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_poll_lands_one_reading_per_displayed_plant_as_the_api_sent_it(
    warehouse, simulator_server
):
    url = simulator_server("--sensor-fault-rate", "0", *FIXED_CLOCK)
    record = ok(ingest({**warehouse, "LNHM_API_URL": url}))
    assert record["outcome"] == "ok" and record["counts"]["readings"] == len(DISPLAYED)

    rows = query(
        warehouse,
        """
        select plant_id, recording_taken, last_watered, name, soil_moisture, temperature,
               botanist__name, botanist__email, botanist__phone, origin_location,
               scientific_name, images, payload, run_id
        from raw.plant_readings order by plant_id""",
    )
    assert [r[0] for r in rows] == DISPLAYED
    model = PlantsSimulator(SimulatorConfig(sensor_fault_rate=0))
    run_ids = {r[-1] for r in rows}
    assert run_ids == {record["counts"]["run_id"]}
    for (
        pid,
        rec,
        watered,
        name,
        moist,
        temp,
        b_name,
        b_email,
        b_phone,
        origin,
        sci,
        images,
        payload,
        _run,
    ) in rows:
        sent = json.loads(model.respond(pid, AT).body)
        assert rec == sent["recording_taken"] == "2026-11-26 00:00:00"
        assert watered == sent["last_watered"] and name == sent["name"]
        assert moist == pytest.approx(sent["soil_moisture"])
        assert temp == pytest.approx(sent["temperature"])
        assert (b_name, b_email, b_phone) == (
            sent["botanist"]["name"],
            sent["botanist"]["email"],
            sent["botanist"]["phone"],
        )
        assert json.loads(origin) == sent["origin_location"]
        assert (json.loads(sci) if sci else None) == sent.get("scientific_name")
        assert (json.loads(images) if images else None) == sent.get("images")
        assert payload is None  # a canonical body is kept once, in the typed columns
    bodies = raw_bodies(warehouse)
    assert bodies == {pid: model.respond(pid, AT).body for pid in DISPLAYED}  # byte for byte

    failures = query(
        warehouse,
        """
        select plant_id, error_kind, http_status, attempts from raw.plant_fetch_failures
        order by plant_id""",
    )
    assert failures == [(7, "not_found", 404, 1), (43, "on_loan", 404, 1)]
    runs = query(
        warehouse, "select plants_polled, readings, failures, outcome from raw.ingest_runs"
    )
    assert runs == [(50, 48, 2, "ok")]


def test_each_fault_kind_lands_a_failure_row_with_its_attempts(warehouse, simulator_server):
    faults = {
        2: "timeout",
        3: "server_error",
        4: "html",
        5: "truncated",
        6: "sensor_fault",
        8: "not_found",
        9: "on_loan",
    }
    spec = ",".join(f"{pid}={kind}" for pid, kind in faults.items())
    url = simulator_server(
        "--sensor-fault-rate", "0", "--faults", spec, "--hang-seconds", "10", *FIXED_CLOCK
    )
    env = {
        **warehouse,
        "LNHM_API_URL": url,
        "LNHM_PLANT_IDS": "1-10",
        "LNHM_HTTP_TIMEOUT": "0.5",
        "LNHM_HTTP_RETRIES": "2",
    }
    record = ok(ingest(env))
    assert record["counts"]["readings"] == 2  # ids 1 and 10
    model = PlantsSimulator(SimulatorConfig(sensor_fault_rate=0, faults=faults))
    expected = {
        2: ("timeout", None, 3),
        3: ("server_error", model.respond(3, AT).status, 3),
        4: ("invalid_body", model.respond(4, AT).status, 3),
        5: ("invalid_body", 200, 3),
        6: ("sensor_fault", 500, 3),
        7: ("not_found", 404, 1),
        8: ("not_found", 404, 1),
        9: ("on_loan", 404, 1),
    }
    rows = query(
        env,
        """select plant_id, error_kind, http_status, attempts, error_message,
                                body_excerpt, fetched_at, run_id
                         from raw.plant_fetch_failures""",
    )
    assert {r[0]: r[1:4] for r in rows} == expected
    for row in rows:
        assert row[4] and row[6] is not None and row[7] == record["counts"]["run_id"]
        assert (row[5] is None) == (row[0] == 2)  # a timeout has no body
    assert query(env, "select failures, outcome from raw.ingest_runs") == [(8, "ok")]


def test_a_rerun_adds_no_duplicate_readings(warehouse, simulator_server):
    url = simulator_server("--sensor-fault-rate", "0", *FIXED_CLOCK)
    env = {**warehouse, "LNHM_API_URL": url}
    ok(ingest(env))
    ok(ingest(env))
    count, distinct = query(
        env,
        """select count(*), count(distinct plant_id || recording_taken)
                                    from raw.plant_readings""",
    )[0]
    assert count == distinct == len(DISPLAYED)
    assert query(env, "select count(*) from raw.ingest_runs") == [(2,)]
    assert query(env, "select count(*) from raw.plant_fetch_failures") == [(4,)]  # 2 per run


@pytest.mark.parametrize("shape", ["v2", "v3"])
def test_v2_and_v3_payloads_load(warehouse, simulator_server, shape):
    url = simulator_server("--shape", shape, "--sensor-fault-rate", "0", *FIXED_CLOCK)
    ok(ingest({**warehouse, "LNHM_API_URL": url}))
    model = PlantsSimulator(SimulatorConfig(shape=shape, sensor_fault_rate=0))
    rows = query(
        warehouse,
        """select plant_id, recording_taken, origin_location, botanist__name,
                                      soil_moisture, payload
                               from raw.plant_readings order by plant_id""",
    )
    assert [r[0] for r in rows] == DISPLAYED
    for pid, rec, origin, botanist, moisture, payload in rows:
        sent = json.loads(model.respond(pid, AT).body)
        assert rec == sent["recording_taken"] and rec.startswith("2026-11-26T00:00:00")
        assert json.loads(origin) == sent["origin_location"]
        assert isinstance(json.loads(origin), dict)
        assert botanist == sent["botanist"]["name"]
        assert moisture == pytest.approx(float(sent["soil_moisture"]))
        assert payload is None
    assert raw_bodies(warehouse) == {pid: model.respond(pid, AT).body for pid in DISPLAYED}


def test_an_overlapping_run_is_refused_and_its_readings_load_next_time(warehouse, simulator_server):
    url = simulator_server("--sensor-fault-rate", "0", *FIXED_CLOCK)
    env = {**warehouse, "LNHM_API_URL": url, "LNHM_LOCK_TIMEOUT": "1"}
    ok(ingest(env))  # create the tables
    with writer_lock(from_env(env), job="test-holder"):
        result = ingest(env)
    assert result.returncode == 75, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "another job" in lines[0] and "LNHM_LOCK_TIMEOUT" in lines[0]
    assert json.loads(result.stdout.strip().splitlines()[-1])["outcome"] == "skipped"
    ok(ingest(env))  # loads the skipped run's package, then its own
    assert query(env, "select count(*) from raw.ingest_runs") == [(3,)]
    assert query(env, "select count(*) from raw.plant_readings") == [(len(DISPLAYED),)]


def test_an_unreachable_api_fails_with_one_line(warehouse):
    env = {**warehouse, "LNHM_API_URL": f"http://127.0.0.1:{free_port()}", "LNHM_HTTP_RETRIES": "1"}
    result = ingest(env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unreachable" in lines[0] and "LNHM_API_URL" in lines[0]
    # every failed request is still a row
    assert query(
        env, "select count(*), min(error_kind), max(error_kind) from raw.plant_fetch_failures"
    ) == [(50, "connection_error", "connection_error")]
    assert query(env, "select outcome from raw.ingest_runs") == [("failed",)]


def test_invalid_plant_ids_fail_with_one_line_naming_the_variable(tmp_path):
    env = {"LNHM_PLANT_IDS": "1-x", "LNHM_DUCKDB_PATH": str(tmp_path / "x.duckdb")}
    result = ingest(env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "LNHM_PLANT_IDS" in lines[0]
    assert not Path(env["LNHM_DUCKDB_PATH"]).exists()


def test_backfill_lands_every_minute_once_minus_faults(warehouse):
    hours, end = 3, datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    args = ("backfill", "--hours", str(hours), "--end", end.isoformat(), "--plants", "50")
    record = ok(ingest(warehouse, *args))
    model = PlantsSimulator(SimulatorConfig(plants=50))
    minutes = [end - timedelta(minutes=m) for m in range(hours * 60)]
    expected = {
        (pid, minute)
        for minute in minutes
        for pid in range(1, 51)
        if model.respond(pid, minute).status == 200
    }
    faults = sum(
        1 for minute in minutes for pid in DISPLAYED if model.respond(pid, minute).status != 200
    )
    assert faults > 0  # the model's ~2 % sensor faults
    assert len(expected) == hours * 60 * len(DISPLAYED) - faults
    assert record["counts"]["readings"] == len(expected)

    rows = query(warehouse, "select plant_id, recording_taken from raw.plant_readings")
    got = [(pid, datetime.fromisoformat(rec).replace(second=0, tzinfo=UTC)) for pid, rec in rows]
    assert len(got) == len(set(got))  # each plant's minute once
    assert set(got) == expected
    failures = query(warehouse, "select count(*) from raw.plant_fetch_failures")[0][0]
    assert failures == hours * 60 * 50 - len(expected)
    assert query(warehouse, "select count(distinct run_id) from raw.ingest_runs") == [(180,)]
    if warehouse["LNHM_WAREHOUSE"] == "duckdb":  # made by the ingest with small blocks
        sizes = query(warehouse, "select database_name, block_size from pragma_database_size()")
        assert ("lnhm", 65_536) in sizes

    ok(ingest(warehouse, *args))  # idempotent: the same backfill again changes nothing
    assert query(warehouse, "select count(*) from raw.plant_readings") == [(len(expected),)]
    assert query(warehouse, "select count(*) from raw.plant_fetch_failures") == [(failures,)]
    assert query(warehouse, "select count(*) from raw.ingest_runs") == [(180,)]


def test_a_poll_without_failures_still_creates_every_raw_table_with_dlt_columns(
    warehouse, simulator_server
):
    url = simulator_server("--sensor-fault-rate", "0", *FIXED_CLOCK)
    ok(ingest({**warehouse, "LNHM_API_URL": url, "LNHM_PLANT_IDS": "1-3"}))
    assert query(warehouse, "select count(*) from raw.plant_fetch_failures") == [(0,)]
    columns = query(
        warehouse,
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'raw' and table_name in "
        "('plant_readings', 'plant_fetch_failures', 'ingest_runs')",
    )
    by_table: dict[str, set[str]] = {}
    for table, column in columns:
        by_table.setdefault(table, set()).add(column)
    assert {"_dlt_load_id", "payload", "fetched_at"} <= by_table["plant_readings"]
    assert "_dlt_id" not in by_table["plant_readings"]  # ~20 bytes a reading, never used
    assert {"error_kind", "attempts", "_dlt_load_id"} <= by_table["plant_fetch_failures"]
    assert {"run_id", "outcome", "plants_polled"} <= by_table["ingest_runs"]
    loads = query(warehouse, "select count(distinct _dlt_load_id) from raw.plant_readings")
    assert loads == [(1,)]


def test_the_poll_deadline_turns_unanswered_plants_into_failure_rows(simulator_server):
    from ingest.fetch import FetchOptions, poll

    url = simulator_server(
        "--sensor-fault-rate", "0", "--faults", "1=timeout,2=timeout", "--hang-seconds", "30"
    )
    options = FetchOptions(api_url=url, timeout_s=10, retries=3, deadline_s=1.5)
    started = time.monotonic()
    outcomes = poll(range(1, 6), options)
    assert time.monotonic() - started < 5
    kinds = {o.plant_id: (o.kind, o.attempts) for o in outcomes}
    assert kinds[1] == kinds[2] == ("timeout", 1)
    assert all(kinds[pid][0] == "reading" for pid in (3, 4, 5))


def _failed(result: subprocess.CompletedProcess) -> tuple[dict, str]:
    assert result.returncode == 1, result.stderr
    [line] = result.stdout.strip().splitlines()
    [stderr] = result.stderr.strip().splitlines()
    record = json.loads(line)
    assert record["outcome"] == "failed"
    return record, stderr


def test_a_lock_conflict_and_a_bad_login_read_differently(tmp_path, postgres_env, simulator_server):
    """Issue 10, defect 6: the failure line used to stop at "... with exception:"."""
    url = simulator_server("--sensor-fault-rate", "0", *FIXED_CLOCK)
    path = tmp_path / "held.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            f"con = duckdb.connect({str(path)!r})\nprint('open', flush=True)\ntime.sleep(120)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        env = {
            "LNHM_DUCKDB_PATH": str(path),
            "LNHM_API_URL": url,
            "LNHM_PLANT_IDS": "1-3",
            "LNHM_LOCK_TIMEOUT": "1",
        }
        result = ingest(env)
    finally:
        holder.kill()
        holder.wait()
    # another process on the DuckDB file is waited for, then a skip (issue 13), DuckDB's words kept
    assert result.returncode == 75, result.stderr
    record = json.loads(result.stdout.strip().splitlines()[-1])
    [stderr] = result.stderr.strip().splitlines()
    assert record["outcome"] == "skipped"
    assert "Could not set lock on file" in record["error"], record["error"]
    assert "Could not set lock on file" in stderr and "the next run loads them" in stderr

    env = {
        **postgres_env,
        "LNHM_WAREHOUSE": "postgres",
        "PGUSER": "no_such_role",
        "PGPASSWORD": "wrong-password",
        "LNHM_API_URL": url,
        "LNHM_PLANT_IDS": "1-3",
        "LNHM_DUCKDB_PATH": str(tmp_path / "unused.duckdb"),
    }
    record, stderr = _failed(ingest(env))
    assert 'role "no_such_role" does not exist' in record["error"], record["error"]
    assert "lock" not in record["error"].lower()
    assert "wrong-password" not in record["error"] + stderr


def test_a_skipped_poll_survives_its_container_when_dlt_state_is_on_a_volume(
    postgres_env, simulator_server, tmp_path
):
    """ECS (issue 10, defect 8): PostgreSQL hot store, the container's disk is thrown away after
    each task, DLT_DATA_DIR on EFS. A tmpfs mount stands in for EFS (CI runs as root)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; CI runs as root")
    volume = tmp_path / "efs"
    volume.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "lnhm-efs", str(volume)], check=True)
    try:
        url = simulator_server("--sensor-fault-rate", "0", "--start", START, "--step", "60")
        container = tmp_path / "container"  # the task's own disk: gone after every run
        env = {
            **postgres_env,
            "LNHM_WAREHOUSE": "postgres",
            "LNHM_API_URL": url,
            "LNHM_LOCK_TIMEOUT": "1",
            "LNHM_DUCKDB_PATH": str(container / "data" / "lnhm.duckdb"),
            "DLT_DATA_DIR": str(volume / "dlt"),
        }
        ok(ingest(env))
        shutil.rmtree(container, ignore_errors=True)

        with writer_lock(from_env(env), job="transform"):  # dbt holds the hot store
            skipped = ingest(env)
        assert skipped.returncode == 75, skipped.stderr
        assert "the next run loads them" in skipped.stderr
        queued = [p for p in (volume / "dlt").rglob("*") if p.is_file() and "normalized" in str(p)]
        assert queued, "the skipped poll's package is on the volume"
        shutil.rmtree(container, ignore_errors=True)

        ok(ingest(env))  # a new container: loads the queued poll, then its own
    finally:
        subprocess.run(["umount", "-l", str(volume)], check=False)
    assert query(env, "select count(*) from raw.ingest_runs") == [(3,)]
    assert query(env, "select count(*) from raw.plant_readings") == [(3 * len(DISPLAYED),)]
