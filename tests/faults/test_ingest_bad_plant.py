"""Fault matrix, one bad plant (issue 13): a new plant whose recording time is a number
(1733212800) failed a dbt error test, which skipped plant_status for every plant: `make
transform` exited non-zero and the site lost every plant. The reading is kept and flagged; the
others' status is built.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading

import duckdb
import pytest
from aiohttp import web

from harness.services import ROOT, free_port
from harness.simulator.model import PlantsSimulator, SimulatorConfig
from tests.faults.ledger import START

BAD_PLANT = 51
DISPLAYED = [pid for pid in range(1, 51) if pid not in (7, 43)]


@pytest.fixture
def api_url():
    model = PlantsSimulator(SimulatorConfig(plants=50, sensor_fault_rate=0))

    async def plant(request: web.Request) -> web.Response:
        plant_id = int(request.match_info["plant_id"])
        if plant_id == BAD_PLANT:  # a new plant, its recording time as epoch seconds
            body = json.loads(model.respond(1, START).body)
            body.update(plant_id=BAD_PLANT, name="Epoch plant", recording_taken=1733212800)
            return web.json_response(body)
        response = model.respond(plant_id, START)
        return web.Response(
            status=response.status,
            body=response.body.encode(),
            headers={"Content-Type": response.content_type},
        )

    port = free_port()
    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_get("/plants/{plant_id}", plant)
    runner = web.AppRunner(app, access_log=None)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def make(target: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "-s", target], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )


def test_a_plant_with_a_numeric_recording_time_does_not_take_the_others_status_down(
    api_url, tmp_path
):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LNHM_", "PG", "DBT_", "AWS_", "DLT_", "MAKE", "MFLAGS"))
    }
    env.update(
        RUNTIME__DLTHUB_TELEMETRY="false",
        DO_NOT_TRACK="1",
        LNHM_DUCKDB_PATH=str(tmp_path / "hot.duckdb"),
        DBT_TARGET_PATH=str(tmp_path / "dbt-target"),
        DBT_LOG_PATH=str(tmp_path / "dbt-logs"),
        LNHM_API_URL=api_url,
        LNHM_PLANT_IDS="1-51",
    )
    ingest = make("ingest", env)
    assert ingest.returncode == 0, ingest.stderr
    transform = make("transform", env)
    assert transform.returncode == 0, transform.stdout[-3000:] + transform.stderr
    record = json.loads(
        [line for line in transform.stdout.splitlines() if line.startswith('{"job"')][-1]
    )
    assert record["outcome"] == "ok"
    assert transform.stderr.strip() == "", transform.stderr
    with duckdb.connect(env["LNHM_DUCKDB_PATH"], read_only=True) as con:
        status = {r[0] for r in con.execute("select plant_id from marts.plant_status").fetchall()}
        flagged = con.execute(
            "select recording_taken_original, recorded_at from staging.stg_plants_api__readings "
            f"where plant_id = {BAD_PLANT}"
        ).fetchall()
        # ledger: each plant served once, a reading for every 200, a failure row for 7 and 43
        raw = con.execute("select plant_id from raw.plant_readings").fetchall()
        failed = con.execute("select plant_id from raw.plant_fetch_failures").fetchall()
    assert sorted(pid for (pid,) in raw) == [*DISPLAYED, BAD_PLANT]
    assert sorted(pid for (pid,) in failed) == [7, 43]
    assert set(DISPLAYED) | {BAD_PLANT} <= status  # every plant's status is built
    assert flagged == [("1733212800", None)]  # the reading is kept, its time unknown
