"""``make run``: the whole warehouse on the embedded default, from nothing to reports.

Starts the simulator, backfills history, polls once live, builds the dbt project, archives aged
days, writes the reports and the botanists' alert e-mails, then stops what it started. It works
in ``data/demo/`` (reset at every run) so it never touches a configured warehouse.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from harness.services import start_simulator

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"


def step(title: str, args: list[str], env: dict) -> None:
    print(f"\n==> {title}", flush=True)
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, check=False)
    if result.returncode != 0:
        sys.exit(f"make run: step '{title}' failed with exit code {result.returncode}")
    print(f"    ({time.monotonic() - started:.1f} s)", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="make run", description=__doc__)
    parser.add_argument("--hours", type=int, default=48, help="hours of history to backfill")
    args = parser.parse_args(argv)
    if args.hours < 25:
        parser.error("--hours must be at least 25 so that a whole day is old enough to archive")

    shutil.rmtree(DEMO, ignore_errors=True)
    DEMO.mkdir(parents=True)
    reports_dir = ROOT / "build" / "reports"
    env = {
        **os.environ,
        "LNHM_WAREHOUSE": "duckdb",
        "LNHM_DUCKDB_PATH": str(DEMO / "lnhm.duckdb"),
        "LNHM_ARCHIVE_URL": str(DEMO / "archive"),
        "LNHM_REPORTS_DIR": str(reports_dir),
        "LNHM_OUTBOX_DIR": str(DEMO / "outbox"),
        "LNHM_PLANT_IDS": "1-50",
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "DO_NOT_TRACK": "1",
    }
    started = time.monotonic()
    print("==> starting the plants API simulator", flush=True)
    simulator = start_simulator("--plants", "50")
    env["LNHM_API_URL"] = simulator.url
    print(f"    listening on {simulator.url}")
    try:
        step(
            f"backfill {args.hours} h of minutely readings",
            ["harness.backfill", "--hours", str(args.hours)],
            env,
        )
        step("one live poll of plants 1-50", ["ingest", "poll"], env)
        step("dbt build (staging, intermediate, marts, tests)", ["lnhm.transform", "build"], env)
        step("archive whole days older than 24 h", ["archive"], env)
        step("dbt build after the archive", ["lnhm.transform", "build"], env)
        step("botanist alerts (written to the outbox)", ["alerts"], env)
        step("reports", ["reports"], env)
    finally:
        simulator.stop()
        print("==> simulator stopped", flush=True)

    print(
        f"\nDone in {time.monotonic() - started:.0f} s.\n"
        f"  hot store (DuckDB): {env['LNHM_DUCKDB_PATH']}\n"
        f"  archive (Parquet):  {env['LNHM_ARCHIVE_URL']}/manifest.json\n"
        f"  alert e-mails:      {env['LNHM_OUTBOX_DIR']}/\n"
        f"  reports:            open {reports_dir / 'index.html'}"
    )


if __name__ == "__main__":
    main()
