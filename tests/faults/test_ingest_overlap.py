"""Fault matrix, overlapping writers (issue 13, data loss 1): a backfill while ingest starts every
1.5 s, and several ingests started at once, must lose nothing and store nothing twice.

Before each run had its own dlt working folder, overlapping runs processed each other's load
packages: a backfill printed "ok" with none of its readings stored, and a package one run
half-moved jammed every later run. The ledger (tests/faults/ledger.py) counts what the API
served; a broken package left by a run is quarantined with one line, never a jam.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from ingest.pipeline import state_root
from lnhm.locking import writer_lock
from lnhm.settings import from_env
from tests.faults.ledger import (
    BACKFILL_END,
    BACKFILL_RUN,
    RecordingApi,
    backfill_expected,
    check_ledger,
    query,
    run,
    start,
)

BACKFILL_HOURS = 3


@pytest.fixture(params=["duckdb", "postgres"])
def env(request, tmp_path) -> dict[str, str]:
    env = {
        "LNHM_WAREHOUSE": request.param,
        "LNHM_DUCKDB_PATH": str(tmp_path / "lnhm.duckdb"),
        "LNHM_PLANT_IDS": "1-50",
        "LNHM_HTTP_RETRIES": "0",  # one request per plant and run: a failure row per failure
        "LNHM_HTTP_TIMEOUT": "5",
        "LNHM_LOCK_TIMEOUT": "30",
    }
    if request.param == "postgres":
        env.update(request.getfixturevalue("postgres_env"))
    return env


def finish(proc) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out, err


def assert_clear(code: int, out: str, err: str) -> None:
    """Done (exit 0, nothing on stderr) or skipped (exit 75, one line saying where the rows
    wait); the JSON line agrees."""
    record = json.loads(out.strip().splitlines()[-1])
    if code == 0:
        assert err.strip() == "" and record["outcome"] == "ok", err
    else:
        assert code == 75, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "the next run loads them" in lines[0], err
        assert record["outcome"] == "skipped"


def leftover_folders(env: dict) -> list[Path]:
    runs = state_root(from_env(env)) / "runs"
    return [p for p in runs.iterdir() if p.is_dir()] if runs.is_dir() else []


@pytest.mark.slow
def test_a_backfill_while_ingest_starts_every_1_5_s_loses_nothing(env):
    with RecordingApi() as api:
        env["LNHM_API_URL"] = api.url
        assert_clear(*finish(start(env, "ingest", "poll")))  # the tables exist
        backfill = start(
            env,
            "harness.backfill",
            "--hours",
            str(BACKFILL_HOURS),
            "--plants",
            "50",
            "--end",
            BACKFILL_END.isoformat(),
        )
        ingests = []
        while len(ingests) < 4 or (backfill.poll() is None and len(ingests) < 12):
            ingests.append(start(env, "ingest", "poll"))
            time.sleep(1.5)
        code, out, err = finish(backfill)
        assert code in (0, 75), err
        assert len([line for line in err.splitlines() if not line.startswith("backfill: ")]) <= 1
        for proc in ingests:
            assert_clear(*finish(proc))
        assert_clear(*finish(start(env, "ingest", "poll")))  # loads whatever was skipped
    check_ledger(env, api, backfill_expected(BACKFILL_HOURS, BACKFILL_END))
    runs = query(
        env, f"select count(*) filter (where {BACKFILL_RUN}), count(*) from raw.ingest_runs"
    )
    assert runs == [(BACKFILL_HOURS * 60, BACKFILL_HOURS * 60 + len(ingests) + 2)]
    assert leftover_folders(env) == []


@pytest.mark.slow
def test_three_ingests_started_together_lose_nothing(env):
    rounds = 4
    with RecordingApi() as api:
        env["LNHM_API_URL"] = api.url
        for _ in range(rounds):
            for proc in [start(env, "ingest", "poll") for _ in range(3)]:
                assert_clear(*finish(proc))
        assert_clear(*finish(start(env, "ingest", "poll")))
    check_ledger(env, api)
    assert query(env, "select count(*) from raw.ingest_runs") == [(3 * rounds + 1,)]
    assert leftover_folders(env) == []


def test_a_broken_package_is_quarantined_with_one_line_and_the_next_ingest_loads(tmp_path):
    env = {
        "LNHM_DUCKDB_PATH": str(tmp_path / "lnhm.duckdb"),
        "LNHM_PLANT_IDS": "1-10",
        "LNHM_HTTP_RETRIES": "0",
        "LNHM_LOCK_TIMEOUT": "1",
    }
    with RecordingApi(sensor_fault_rate=0) as api:
        env["LNHM_API_URL"] = api.url
        assert run(env, "ingest", "poll").returncode == 0
        before = set(api.readings)
        with writer_lock(from_env(env), job="test-holder"):
            skipped = run(env, "ingest", "poll")
        assert skipped.returncode == 75, skipped.stderr
        [folder] = leftover_folders(env)
        # the skipped run's readings file, cut in half (a disk full or a copy interrupted)
        [parquet] = [p for p in folder.rglob("plant_readings.*.parquet") if "normalized" in str(p)]
        quarantined_readings = api.readings - before
        parquet.write_bytes(parquet.read_bytes()[: parquet.stat().st_size // 2])

        result = run(env, "ingest", "poll")
        assert result.returncode == 0, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "quarantined a broken load package" in lines[0], lines
        assert "quarantine" in lines[0] and folder.name in lines[0]
        record = json.loads(result.stdout.strip().splitlines()[-1])
        assert record["counts"]["packages_quarantined"] == 1
        quarantined = state_root(from_env(env)) / "quarantine"
        assert list(quarantined.rglob(parquet.name)), "the broken package is kept for inspection"

        again = run(env, "ingest", "poll")  # no jam: the next run is clean
        assert again.returncode == 0 and again.stderr.strip() == "", again.stderr
    # everything but the quarantined package's readings is stored, once
    rows = query(env, "select plant_id, recording_taken from raw.plant_readings")
    assert len(rows) == len(set(rows))
    assert quarantined_readings and set(rows) == api.readings - quarantined_readings


def test_a_run_killed_while_waiting_for_the_lock_is_loaded_by_the_next(tmp_path):
    """kill -9 after normalize, before the load: the kernel frees the run's claim, its folder
    waits, and the next run to hold the lock loads it."""
    env = {
        "LNHM_DUCKDB_PATH": str(tmp_path / "lnhm.duckdb"),
        "LNHM_PLANT_IDS": "1-10",
        "LNHM_HTTP_RETRIES": "0",
        "LNHM_LOCK_TIMEOUT": "60",
    }
    with RecordingApi() as api:
        env["LNHM_API_URL"] = api.url
        assert run(env, "ingest", "poll").returncode == 0
        with writer_lock(from_env(env), job="test-holder"):
            victim = start(env, "ingest", "poll")
            deadline = time.monotonic() + 120
            while not any(
                "normalized" in str(p) for f in leftover_folders(env) for p in f.rglob("*.parquet")
            ):
                assert time.monotonic() < deadline and victim.poll() is None
                time.sleep(0.2)
            victim.kill()  # SIGKILL: no finally, no cleanup
            victim.wait()
        assert len(leftover_folders(env)) == 1
        result = run(env, "ingest", "poll")
        assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
        assert (
            json.loads(result.stdout.strip().splitlines()[-1])["counts"]["leftover_runs_loaded"]
            == 1
        )
    check_ledger(env, api)
    assert query(env, "select count(*) from raw.ingest_runs") == [(3,)]
    assert leftover_folders(env) == []
