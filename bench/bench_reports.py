"""Benchmark: time to generate the whole report site (`python -m reports`).

Two cases, each measured in one run on data written straight into the contract layout by
``reports.demo_data`` (hot store marts in a DuckDB file; a year of archive as Parquet under
``readings/day=YYYY-MM-DD/`` + ``fetch_failures/day=...`` + ``manifest.json``):
  1. 50 plants with a year of archive (~26 M archived readings) plus ~1.5 days hot;
  2. 1,000 plants with a week of archive (~10 M archived readings; a year of 1,000 plants would
     be ~525 M rows, which this bench does not write) plus ~1.5 days hot.
The time is wall clock for the whole command, Python start-up included, as cron runs it.

    .venv/bin/python bench/bench_reports.py [--days 365] [--large-plants 1000] [--large-days 7]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reports.demo_data import write_demo  # noqa: E402


def case(work: Path, plants: int, days: int) -> dict:
    folder = work / f"p{plants}-d{days}"
    shutil.rmtree(folder, ignore_errors=True)
    started = time.monotonic()
    facts = write_demo(
        folder / "hot.duckdb",
        folder / "archive",
        plants=plants,
        archive_days=days,
        progress=lambda message: print(f"  {message}", flush=True),
    )
    generated = time.monotonic() - started
    manifest = json.loads((folder / "archive" / "manifest.json").read_text())
    archived = sum(d["readings"] for d in manifest["days"].values())
    size = sum(d["readings_bytes"] + d["fetch_failures_bytes"] for d in manifest["days"].values())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LNHM_", "PG", "AWS_"))}
    env.update(
        {
            "LNHM_DUCKDB_PATH": str(folder / "hot.duckdb"),
            "LNHM_ARCHIVE_URL": str(folder / "archive"),
            "LNHM_REPORTS_DIR": str(folder / "site"),
        }
    )
    print(f"  data written in {generated:.1f} s; running python -m reports", flush=True)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "reports"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    seconds = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"reports failed:\n{result.stderr}")
    for line in result.stderr.splitlines():
        print(f"    {line}")
    counts = json.loads(result.stdout.strip().splitlines()[-1])["counts"]
    return {
        "plants": plants,
        "archived_days": len(manifest["days"]),
        "archived_readings": archived,
        "archive_mb": size / 1e6,
        "hot_readings": facts["hot_readings"],
        "pages": counts["pages"],
        "charts": counts["charts"],
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plants", type=int, default=50)
    parser.add_argument("--days", type=int, default=365, help="archived days, first case")
    parser.add_argument("--large-plants", type=int, default=1000)
    parser.add_argument("--large-days", type=int, default=7, help="archived days, second case")
    parser.add_argument("--workdir", type=Path, help="keep the data here (default: a temp dir)")
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="lnhm-bench-reports-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        results = []
        for plants, days in ((args.plants, args.days), (args.large_plants, args.large_days)):
            print(f"== {plants} plants, {days} archived days", flush=True)
            results.append(case(work, plants, days))
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\nreport site generation (wall clock of `python -m reports`, cpus: {os.cpu_count()})")
    print(
        f"{'plants':>7} {'archived days':>14} {'archived readings':>18} {'archive MB':>11} "
        f"{'hot readings':>13} {'pages':>6} {'charts':>7} {'seconds':>8}"
    )
    for r in results:
        print(
            f"{r['plants']:>7} {r['archived_days']:>14} {r['archived_readings']:>18,} "
            f"{r['archive_mb']:>11.1f} {r['hot_readings']:>13,} {r['pages']:>6} "
            f"{r['charts']:>7} {r['seconds']:>8.2f}"
        )


if __name__ == "__main__":
    main()
