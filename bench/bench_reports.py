"""Benchmark: time to generate the whole report site (`python -m reports`).

The history is built through the real chain (tests/chain.py): the harness's backfill of
simulated minutely polls ending at 12:30 UTC, dbt build, the archive job (every whole day older
than the retention goes to Parquet through the archive's own writer and leaves the hot store),
dbt build. No second schema is written by hand. Two cases, each measured in one run:
  1. --plants plants (50) with --days days (30) of history, all but the last ~1.5 days archived;
  2. --large-plants plants (1,000) with --large-days days (3) of history.
The site reads only the report marts and the manifest (reports/README.md), so its cost grows
with plants x days of the long-lived marts, not with the archived readings. The time is wall
clock for the whole command, Python start-up included, as cron runs it; the best of --repeat
runs is printed beside the first.

    .venv/bin/python bench/bench_reports.py [--days 30] [--large-plants 1000] [--large-days 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.chain import build_chain  # noqa: E402


def case(work: Path, plants: int, days: int, repeat: int) -> dict:
    folder = work / f"p{plants}-d{days}"
    shutil.rmtree(folder, ignore_errors=True)
    started = time.monotonic()
    print(f"  building {days} days of {plants} plants through the chain ...", flush=True)
    chain = build_chain(folder, plants=plants, hours=days * 24, reports=False)
    built = time.monotonic() - started
    manifest = chain.manifest()
    archived = sum(d["readings"] for d in manifest["days"].values())
    size = sum(d["readings_bytes"] + d["fetch_failures_bytes"] for d in manifest["days"].values())
    print(f"  chain built in {built:.0f} s; running python -m reports x{repeat}", flush=True)
    seconds = []
    for _ in range(repeat):
        started = time.monotonic()
        result = chain.run("reports")
        seconds.append(time.monotonic() - started)
    for line in result.stderr.splitlines():
        print(f"    {line}")
    counts = json.loads(result.stdout.strip().splitlines()[-1])["counts"]
    return {
        "plants": plants,
        "days": days,
        "archived_days": len(manifest["days"]),
        "archived_readings": archived,
        "archive_mb": size / 1e6,
        "hot_readings": counts["hot_readings"],
        "pages": counts["pages"],
        "charts": counts["charts"],
        "first": seconds[0],
        "best": min(seconds),
        "chain_s": built,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plants", type=int, default=50)
    parser.add_argument("--days", type=int, default=30, help="days of history, first case")
    parser.add_argument("--large-plants", type=int, default=1000)
    parser.add_argument("--large-days", type=int, default=3, help="days of history, second case")
    parser.add_argument("--repeat", type=int, default=3, help="report runs per case")
    parser.add_argument("--workdir", type=Path, help="keep the data here (default: a temp dir)")
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="lnhm-bench-reports-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        results = []
        for plants, days in ((args.plants, args.days), (args.large_plants, args.large_days)):
            print(f"== {plants} plants, {days} days of history", flush=True)
            results.append(case(work, plants, days, args.repeat))
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\nreport site generation (wall clock of `python -m reports`, cpus: {os.cpu_count()})")
    print(
        f"{'plants':>7} {'days':>5} {'archived days':>14} {'archived readings':>18} "
        f"{'archive MB':>11} {'hot readings':>13} {'pages':>6} {'charts':>7} "
        f"{'first s':>8} {'best s':>7} {'chain s':>8}"
    )
    for r in results:
        print(
            f"{r['plants']:>7} {r['days']:>5} {r['archived_days']:>14} "
            f"{r['archived_readings']:>18,} {r['archive_mb']:>11.1f} {r['hot_readings']:>13,} "
            f"{r['pages']:>6} {r['charts']:>7} {r['first']:>8.2f} {r['best']:>7.2f} "
            f"{r['chain_s']:>8.0f}"
        )


if __name__ == "__main__":
    main()
