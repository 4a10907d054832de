"""The fault matrix's ledger: what the API served, counted by the API itself, against the tiers.

`RecordingApi` plays the plants API in a thread of the test process: the k-th request for a
plant answers the simulator model at START + k minutes (so every answer is a distinct reading),
and every answer is written down. The ledger then compares what was served with what the hot
store holds, independently of the ingest code's own counts.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from aiohttp import web

from harness.services import ROOT, free_port
from harness.simulator.model import PlantsSimulator, SimulatorConfig
from lnhm.settings import from_env

START = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
# backfills in these tests end before START; their run ids come from the simulated poll time
# ("20261125T..."), live runs' from the real clock
BACKFILL_END = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BACKFILL_RUN = "run_id < '20261126'"


class RecordingApi:
    """GET /plants/{id} from the simulator model, one new minute per request and plant."""

    def __init__(self, plants: int = 50, sensor_fault_rate: float = 0.02) -> None:
        self.model = PlantsSimulator(SimulatorConfig(plants=plants, seed=7, sensor_fault_rate=0))
        self.faulty = PlantsSimulator(
            SimulatorConfig(plants=plants, seed=7, sensor_fault_rate=sensor_fault_rate)
        )
        self.asks: Counter[int] = Counter()
        self.readings: set[tuple[int, str]] = set()  # (plant_id, recording_taken) served
        self.failed = 0  # non-200 answers served
        self._lock = threading.Lock()
        self.url = ""

    async def _plant(self, request: web.Request) -> web.Response:
        plant_id = int(request.match_info["plant_id"])
        with self._lock:
            k = self.asks[plant_id]
            self.asks[plant_id] += 1
            response = self.faulty.respond(plant_id, START + timedelta(minutes=k))
            if response.status == 200:
                self.readings.add((plant_id, json.loads(response.body)["recording_taken"]))
            else:
                self.failed += 1
        return web.Response(
            status=response.status,
            body=response.body.encode(),
            headers={"Content-Type": response.content_type},
        )

    def __enter__(self) -> RecordingApi:
        port = free_port()
        self._loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_get("/plants/{plant_id}", self._plant)
        runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


def job_env(env: dict) -> dict:
    return {**os.environ, "RUNTIME__DLTHUB_TELEMETRY": "false", "DO_NOT_TRACK": "1", **env}


def start(env: dict, *module: str) -> subprocess.Popen:
    """`python -m <module...>` (e.g. "ingest", "poll") in the background, output captured."""
    return subprocess.Popen(
        [sys.executable, "-m", *module],
        cwd=ROOT,
        env=job_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(env: dict, *module: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *module],
        cwd=ROOT,
        env=job_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def query(env: dict, sql: str) -> list[tuple]:
    if env.get("LNHM_WAREHOUSE", "duckdb") == "duckdb":
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


def backfill_expected(hours: int, end: datetime, plants: int = 50) -> tuple[set, int]:
    """(plant_id, minute) of every reading a backfill of `hours` to `end` is served by the
    model (seed 42, the backfill's default), and how many requests failed."""
    model = PlantsSimulator(SimulatorConfig(plants=plants))
    readings, failed = set(), 0
    for m in range(hours * 60):
        minute = end - timedelta(minutes=m)
        for pid in range(1, plants + 1):
            if model.respond(pid, minute).status == 200:
                readings.add((pid, minute))
            else:
                failed += 1
    return readings, failed


def check_ledger(env: dict, api: RecordingApi, backfill: tuple[set, int] | None = None) -> None:
    """Served = hot store, none twice, a failure row for every failed request (live polls ask
    each plant once per run: LNHM_HTTP_RETRIES=0)."""
    rows = query(env, "select plant_id, recording_taken, run_id from raw.plant_readings")
    keys = [(pid, rec) for pid, rec, _ in rows]
    assert len(keys) == len(set(keys)), "a reading stored twice"
    live = {(pid, rec) for pid, rec, run_id in rows if run_id >= "20261126"}
    assert live == api.readings, (
        f"live: {len(api.readings)} served, {len(live)} stored, "
        f"{len(api.readings - live)} lost, {len(live - api.readings)} never served"
    )
    live_failures = query(
        env, f"select count(*) from raw.plant_fetch_failures where not ({BACKFILL_RUN})"
    )[0][0]
    assert live_failures == api.failed
    if backfill is not None:
        expected, failed = backfill
        got = {
            (pid, datetime.fromisoformat(rec).replace(second=0, tzinfo=UTC))
            for pid, rec, run_id in rows
            if run_id < "20261126"
        }
        assert got == expected, f"backfill: {len(expected)} served, {len(got)} stored"
        backfill_failures = query(
            env, f"select count(*) from raw.plant_fetch_failures where {BACKFILL_RUN}"
        )[0][0]
        assert backfill_failures == failed
