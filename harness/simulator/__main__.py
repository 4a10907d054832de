"""``python -m harness.simulator``: serve the simulated plants API over HTTP."""

from __future__ import annotations

import argparse
import asyncio
import errno
import sys

from harness.simulator.clock import Clock, parse_start
from harness.simulator.model import (
    SHAPES,
    PlantsSimulator,
    SimulatorConfig,
    parse_faults,
    parse_temperature_offset,
)
from harness.simulator.server import make_app, serve


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m harness.simulator",
        description="A faithful local stand-in for the LNHM plants API (GET / and /plants/{id}).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (8000; 0 = any free port)")
    p.add_argument("--plants", type=int, default=50, help="plant ids 1..N (50; >50 generated)")
    p.add_argument("--seed", type=int, default=42, help="seed for readings and faults (42)")
    p.add_argument("--shape", choices=SHAPES, default="v1", help="payload shape (v1)")
    p.add_argument(
        "--latency",
        choices=("off", "realistic"),
        default="off",
        help="off (default) or realistic: 0.3-1.0 s per request",
    )
    p.add_argument("--sensor-fault-rate", type=float, default=0.02, help="500 sensor faults (0.02)")
    p.add_argument("--timeout-rate", type=float, default=0.0, help="requests that hang (0)")
    p.add_argument("--server-error-rate", type=float, default=0.0, help="502/503 answers (0)")
    p.add_argument("--html-rate", type=float, default=0.0, help="HTML error pages (0)")
    p.add_argument("--truncated-rate", type=float, default=0.0, help="JSON cut in half (0)")
    p.add_argument(
        "--faults",
        default="",
        help='forced faults per plant id, e.g. "3=timeout,5=html" (kinds: timeout, '
        "server_error, html, truncated, sensor_fault, not_found, on_loan)",
    )
    p.add_argument(
        "--temperature-offset",
        action="append",
        default=[],
        metavar="ID=START/HOURS/DELTA",
        help="a heating fault scenario: hold plant ID DELTA C off its normal temperature for "
        "HOURS from START (UTC), e.g. 5=2026-12-02T08:00:00/2/+5 (repeatable)",
    )
    p.add_argument("--start", help="simulated start time, e.g. 2026-11-26T00:00:00 (UTC)")
    p.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="simulated seconds per real second (0: frozen at --start)",
    )
    p.add_argument("--step", type=float, help="advance a plant's time by STEP s at each poll")
    p.add_argument("--hang-seconds", type=float, default=120.0, help="how long timeouts hang")
    return p


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = SimulatorConfig(
            plants=args.plants,
            seed=args.seed,
            shape=args.shape,
            sensor_fault_rate=args.sensor_fault_rate,
            timeout_rate=args.timeout_rate,
            server_error_rate=args.server_error_rate,
            html_rate=args.html_rate,
            truncated_rate=args.truncated_rate,
            faults=parse_faults(args.faults),
            temperature_offsets=tuple(map(parse_temperature_offset, args.temperature_offset)),
        )
        start = parse_start(args.start) if args.start else None
        clock = Clock(start=start, speed=args.speed, step_s=args.step)
    except ValueError as exc:
        parser.error(str(exc))
    simulator = PlantsSimulator(config)
    app = make_app(simulator, clock, latency=args.latency, hang_s=args.hang_seconds)
    banner = (
        f"{config.plants} plants, shape {config.shape}, seed {config.seed}, "
        f"clock {clock.mode}, latency {args.latency}"
    )
    try:
        asyncio.run(serve(app, args.host, args.port, banner))
    except OSError as exc:  # e.g. the port is taken: one line, no traceback
        hint = '(choose another: --port N, or make simulate SIM_ARGS="--port N")'
        if exc.errno == errno.EADDRINUSE:
            sys.exit(f"simulator: port {args.port} on {args.host} is already in use {hint}")
        sys.exit(f"simulator: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")


if __name__ == "__main__":
    main()
