"""Fault matrix, bad answers: a body for another plant, a body of hundreds of megabytes.

A small aiohttp server in this process plays the API; the poll (`ingest.fetch.poll`) and the
whole job (`python -m ingest poll` into DuckDB) must turn each into a failure row for the plant
asked, and never store it as a reading.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading

import duckdb
import pytest
from aiohttp import web

from harness.services import ROOT, free_port
from ingest.fetch import MAX_BODY_BYTES, FetchOptions, poll

HUGE_BYTES = 200 * 1024 * 1024  # what was seen: a 200 MB body


def reading(plant_id: int) -> dict:
    return {
        "botanist": {"email": "a.b@lnhm.co.uk", "name": "A B", "phone": "1"},
        "last_watered": "Tue, 01 Dec 2026 13:54:32 GMT",
        "name": f"Plant {plant_id}",
        "origin_location": ["53.4", "-2.98", "Liverpool", "GB", "Europe/London"],
        "plant_id": plant_id,
        "recording_taken": "2026-12-02 10:00:00",
        "soil_moisture": 50.5,
        "temperature": 12.25,
    }


async def plant(request: web.Request) -> web.StreamResponse:
    plant_id = int(request.match_info["plant_id"])
    if plant_id == 4:  # answers for another plant
        return web.json_response(reading(999))
    if plant_id == 5:  # a body of 200 MB, streamed
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        chunk = b" " * (1024 * 1024)
        await response.write(b'{"padding": "')
        try:
            for _ in range(HUGE_BYTES // len(chunk)):
                await response.write(chunk)
        except (ConnectionResetError, RuntimeError):
            return response  # the client stopped reading, as it should
        await response.write(b'"}')
        await response.write_eof()
        return response
    return web.json_response(reading(plant_id))


@pytest.fixture(scope="module")
def api_url():
    port = free_port()
    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_get("/plants/{plant_id}", plant)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def test_a_body_for_another_plant_and_a_huge_body_are_failures_of_the_plant_asked(api_url):
    outcomes = {o.plant_id: o for o in poll([3, 4, 5], FetchOptions(api_url=api_url, retries=0))}
    assert outcomes[3].is_reading
    assert outcomes[4].kind == "invalid_body" and "999" in outcomes[4].message
    assert outcomes[5].kind == "invalid_body" and "larger than" in outcomes[5].message
    # no more than the cap (and one chunk) was read
    assert MAX_BODY_BYTES < len(outcomes[5].body) <= MAX_BODY_BYTES + 64 * 1024


def test_the_ingest_job_files_them_as_failure_rows_of_the_ids_asked(api_url, tmp_path):
    env = {
        **os.environ,
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "LNHM_API_URL": api_url,
        "LNHM_PLANT_IDS": "3-5",
        "LNHM_HTTP_RETRIES": "1",
        "LNHM_WAREHOUSE": "duckdb",
        "LNHM_DUCKDB_PATH": str(tmp_path / "lnhm.duckdb"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "ingest", "poll"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout.strip().splitlines()[-1])["counts"]
    assert counts["readings"] == 1 and counts["failures"] == 2
    with duckdb.connect(env["LNHM_DUCKDB_PATH"], read_only=True) as con:
        readings = con.execute("select plant_id from raw.plant_readings").fetchall()
        failures = con.execute(
            "select plant_id, error_kind, attempts, length(body_excerpt) "
            "from raw.plant_fetch_failures order by plant_id"
        ).fetchall()
    assert readings == [(3,)]
    assert failures == [
        (4, "invalid_body", 2, len(json.dumps(reading(999)))),
        (5, "invalid_body", 2, 500),
    ]
