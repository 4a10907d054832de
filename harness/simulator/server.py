"""The simulator over HTTP (aiohttp): ``GET /`` and ``GET /plants/{id}`` like the real API."""

from __future__ import annotations

import asyncio
import itertools
import random
import re
import signal
import sys

from aiohttp import web

from harness.simulator.clock import Clock
from harness.simulator.model import FLASK_NOT_FOUND_PAGE, HTML_TYPE, PlantsSimulator, SimResponse

REALISTIC_LATENCY_S = (0.3, 1.0)
_INT = re.compile(r"-?[0-9]+")
# What the real API's responses carried (Heroku router + gunicorn).
_HEADERS = {"Server": "gunicorn", "Via": "1.1 vegur"}


def _to_web(resp: SimResponse) -> web.Response:
    headers = dict(_HEADERS)
    headers["Content-Type"] = resp.content_type
    return web.Response(status=resp.status, body=resp.body.encode("utf-8"), headers=headers)


def make_app(
    simulator: PlantsSimulator,
    clock: Clock,
    latency: str = "off",
    hang_s: float = 120.0,
) -> web.Application:
    """The aiohttp application serving ``simulator`` on ``clock``."""
    rng = random.Random()
    requests = itertools.count(1)  # each request a fresh fault draw (re-asks usually succeed)

    async def delay() -> None:
        if latency == "realistic":
            await asyncio.sleep(rng.uniform(*REALISTIC_LATENCY_S))

    async def index(request: web.Request) -> web.Response:
        await delay()
        return _to_web(simulator.index())

    async def plant(request: web.Request) -> web.Response:
        raw = request.match_info["plant_id"]
        if not _INT.fullmatch(raw):
            await delay()
            return _to_web(SimResponse(404, FLASK_NOT_FOUND_PAGE, HTML_TYPE))
        plant_id = int(raw)
        at = clock.now(plant_id) if plant_id >= 0 else clock.now()
        resp = simulator.respond(plant_id, at, next(requests))
        await delay()
        if resp.hang:
            await asyncio.sleep(hang_s)
        return _to_web(resp)

    async def not_found(request: web.Request) -> web.Response:
        return _to_web(SimResponse(404, FLASK_NOT_FOUND_PAGE, HTML_TYPE))

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/plants/{plant_id}", plant)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app


async def serve(
    app: web.Application,
    host: str,
    port: int,
    banner: str,
) -> None:
    """Serve until SIGTERM or SIGINT, then shut down cleanly (hanging requests are cancelled)."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=4096, reuse_address=True)
    await site.start()
    bound_port = runner.addresses[0][1] if runner.addresses else port
    shown_host = f"[{host}]" if ":" in host else host
    print(f"simulator: {banner} on http://{shown_host}:{bound_port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        print("simulator: stopped", file=sys.stderr, flush=True)
