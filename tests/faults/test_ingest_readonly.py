"""Fault matrix, a read-only session (issue 13): an analyst's `duckdb -readonly hot.duckdb` is
another process holding DuckDB's file lock. `make ingest` and `make transform` used to fail
halfway ("Could not set lock on file"); they must wait (LNHM_LOCK_TIMEOUT), then skip with exit
75 and one line, the poll's rows kept for the next run; a session that closes in time is waited
for.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from tests.faults.ledger import RecordingApi, check_ledger, run

HOLD = (
    "import duckdb, sys, time\n"
    "con = duckdb.connect(sys.argv[1], read_only=True)\n"
    "con.execute('select count(*) from raw.plant_readings').fetchall()\n"
    "print('open', flush=True)\n"
    "time.sleep(float(sys.argv[2]))\n"
)


def hold_read_only(path: str, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, path, str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "open"
    return holder


def one_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_ingest_and_transform_skip_while_a_read_only_session_is_open(tmp_path):
    env = {
        "LNHM_DUCKDB_PATH": str(tmp_path / "lnhm.duckdb"),
        "LNHM_PLANT_IDS": "1-20",
        "LNHM_HTTP_RETRIES": "0",
        "LNHM_LOCK_TIMEOUT": "2",
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    with RecordingApi() as api:
        env["LNHM_API_URL"] = api.url
        assert run(env, "ingest", "poll").returncode == 0
        holder = hold_read_only(env["LNHM_DUCKDB_PATH"], 120)
        try:
            started = time.monotonic()
            skipped = run(env, "ingest", "poll")
            waited = time.monotonic() - started
            transform = run(env, "lnhm.transform", "build")
        finally:
            holder.kill()
            holder.wait()
        assert skipped.returncode == 75, skipped.stderr
        line = one_line(skipped)
        assert line.startswith("ingest: skipped:") and "open in another process" in line
        assert "the next run loads them" in line and "LNHM_LOCK_TIMEOUT" in line
        assert waited >= 2  # it waited for the session first
        assert json.loads(skipped.stdout.strip().splitlines()[-1])["outcome"] == "skipped"

        assert transform.returncode == 75, transform.stderr
        line = one_line(transform)
        assert line.startswith("transform: skipped:") and "open in another process" in line

        done = run(env, "ingest", "poll")  # the session is closed: both polls load
        assert done.returncode == 0 and done.stderr.strip() == "", done.stderr
    check_ledger(env, api)


def test_a_session_closed_within_the_lock_timeout_is_waited_for(tmp_path):
    env = {
        "LNHM_DUCKDB_PATH": str(tmp_path / "lnhm.duckdb"),
        "LNHM_PLANT_IDS": "1-20",
        "LNHM_HTTP_RETRIES": "0",
        "LNHM_LOCK_TIMEOUT": "30",
    }
    with RecordingApi() as api:
        env["LNHM_API_URL"] = api.url
        assert run(env, "ingest", "poll").returncode == 0
        holder = hold_read_only(env["LNHM_DUCKDB_PATH"], 10)
        try:
            result = run(env, "ingest", "poll")
        finally:
            holder.wait()
        assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
        counts = json.loads(result.stdout.strip().splitlines()[-1])["counts"]
        assert counts["lock_wait_s"] >= 1
    check_ledger(env, api)
