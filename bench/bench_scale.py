"""Scale: the whole schedule for 10,000 plants on this machine, side by side with 50 plants.

For each plant count, in one process, on the embedded default (DuckDB file, local archive):
1. a simulator with that many plants (realistic latency, 0.3-1.0 s a request) whose clock moves
   one minute per poll, and `--history-hours` of simulated history loaded by the backfill;
2. the first `dbt build` (`python -m lnhm.transform build`), timed on its own;
3. a simulated hour, the schedule's steps run back to back as cron would start them: a poll
   every minute (`python -m ingest poll`), and every 5 minutes the transform, the botanist
   alerts and the report site (`python -m reports`); the operator checks every 15 minutes.
   Each job's wall time is measured; a job keeps its cadence when its slowest run fits in its
   period (60 s for the poll, 300 s for transform + alerts + reports together), and the hour
   fits when all the jobs' time adds up to less than an hour;
4. hot store bytes per reading: used blocks (after a checkpoint) over the readings held;
5. the archive of one whole day of that many plants (`python -m archive`; 14.4 M readings for
   10,000 plants) generated as bench_archive.py does: readings/s and Parquet bytes per reading.

Ratios (10,000 / 50 plants) are printed at the end. The simulated hour runs faster than real
time, so recording times run ahead of fetch times: the marts flag such readings as "future",
which changes what the alerts find but not the work each job does.

    .venv/bin/python bench/bench_scale.py [--plants 50,10000] [--minutes 60] [--history-hours 2]
        [--archive-day / --no-archive-day]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_archive import DAY, NOW, build_hot_store  # noqa: E402
from harness import services  # noqa: E402

PERIODS = {"ingest": 60, "transform+alerts+reports": 300, "alerts-ops": 900}


def run(env: dict, *args: str) -> tuple[float, dict]:
    """`python -m <args>` as cron runs a job; (wall seconds, its JSON line)."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    lines = [line for line in result.stdout.splitlines() if line.startswith('{"job"')]
    if result.returncode != 0 or not lines:
        tail = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise SystemExit(f"{' '.join(args)} failed ({result.returncode}): {tail}")
    return wall, json.loads(lines[-1])


def hot_bytes_per_reading(path: Path) -> tuple[float, int]:
    copy = path.with_name("measure.duckdb")
    shutil.copyfile(path, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("checkpoint")
        readings = con.execute("select count(*) from raw.plant_readings").fetchone()[0]
        used, block = con.execute(
            "select used_blocks, block_size from pragma_database_size()"
        ).fetchone()
    copy.unlink()
    return used * block / max(readings, 1), readings


def schedule(plants: int, minutes: int, history_hours: float, work: Path) -> dict:
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    sim = services.start_simulator(
        "--plants",
        str(plants),
        "--latency",
        "realistic",
        "--start",
        start.strftime("%Y-%m-%dT%H:%M:%S"),
        "--step",
        "60",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LNHM_", "DBT_"))}
    env.update(
        RUNTIME__DLTHUB_TELEMETRY="false",
        DO_NOT_TRACK="1",
        LNHM_API_URL=sim.url,
        LNHM_PLANT_IDS=f"1-{plants}",
        LNHM_WAREHOUSE="duckdb",
        LNHM_DUCKDB_PATH=str(work / "lnhm.duckdb"),
        LNHM_ARCHIVE_URL=str(work / "archive"),
        LNHM_REPORTS_DIR=str(work / "site"),
        LNHM_OUTBOX_DIR=str(work / "outbox"),
        LNHM_SMTP_HOST="",
        DBT_TARGET_PATH=str(work / "target"),
        DBT_LOG_PATH=str(work / "logs"),
    )
    out: dict = {"plants": plants, "walls": defaultdict(list)}
    try:
        end = start - timedelta(minutes=1)
        wall, record = run(
            env, "harness.backfill", "--hours", f"{history_hours:g}", "--end", end.isoformat()
        )
        out["backfill_s"], out["backfill_readings"] = wall, record["counts"]["readings"]
        out["first_build_s"], _ = run(env, "lnhm.transform", "build")
        print(
            f"  {plants:,} plants: {out['backfill_readings']:,} readings of history in "
            f"{wall:.0f} s; first dbt build {out['first_build_s']:.1f} s",
            flush=True,
        )
        hour_started = time.perf_counter()
        for minute in range(minutes):
            wall, _ = run(env, "ingest", "poll")
            out["walls"]["ingest"].append(wall)
            if minute % 5 == 4:
                step = 0.0
                for job in (("lnhm.transform", "build"), ("alerts",), ("reports",)):
                    wall, _ = run(env, *job)
                    out["walls"][job[0].split(".")[-1]].append(wall)
                    step += wall
                out["walls"]["transform+alerts+reports"].append(step)
            if minute % 15 == 2:
                wall, _ = run(env, "alerts", "ops")
                out["walls"]["alerts-ops"].append(wall)
            if minute % 10 == 9:
                done = time.perf_counter() - hour_started
                print(f"    minute {minute + 1}/{minutes}: {done:.0f} s so far", flush=True)
        out["hour_s"] = time.perf_counter() - hour_started
        out["bytes_per_reading"], out["hot_readings"] = hot_bytes_per_reading(
            Path(env["LNHM_DUCKDB_PATH"])
        )
    finally:
        sim.stop()
    return out


def archive_day(plants: int, work: Path) -> dict:
    hot = work / "day.duckdb"
    counts = build_hot_store(hot, plants)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LNHM_", "AWS_"))}
    env.update(
        LNHM_WAREHOUSE="duckdb", LNHM_DUCKDB_PATH=str(hot), LNHM_ARCHIVE_URL=str(work / "arch")
    )
    wall, record = run(env, "archive", "--now", NOW.isoformat())
    assert record["counts"]["readings"] == counts["readings"], record
    manifest = json.loads((work / "arch" / "manifest.json").read_text())
    entry = manifest["days"][DAY.isoformat()]
    hot.unlink()
    return {
        "readings": counts["readings"],
        "archive_s": wall,
        "readings_per_s": counts["readings"] / wall,
        "parquet_bytes_per_reading": entry["readings_bytes"] / entry["readings"],
    }


def summary(result: dict) -> dict:
    rows = {}
    for job, walls in result["walls"].items():
        period = PERIODS.get(job)
        rows[job] = {
            "runs": len(walls),
            "median_s": statistics.median(walls),
            "max_s": max(walls),
            "kept": None if period is None else max(walls) <= period,
        }
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plants", default="50,10000", help="two plant counts: small,large")
    parser.add_argument("--minutes", type=int, default=60, help="length of the simulated hour")
    parser.add_argument("--history-hours", type=float, default=2.0, help="backfilled history")
    parser.add_argument("--archive-day", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args(argv)
    small, large = (int(p) for p in args.plants.split(","))

    load1, _, _ = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load1:.1f} at start", flush=True)
    results = {}
    for plants in (small, large):
        work = Path(tempfile.mkdtemp(prefix=f"lnhm-bench-scale-{plants}-"))
        try:
            print(f"== schedule, {plants:,} plants, {args.minutes} simulated minutes", flush=True)
            results[plants] = schedule(plants, args.minutes, args.history_hours, work)
            if args.archive_day:
                print(f"== archive one day of {plants:,} plants", flush=True)
                results[plants].update(archive_day(plants, work))
        finally:
            shutil.rmtree(work, ignore_errors=True)

    print()
    tables = {plants: summary(result) for plants, result in results.items()}
    header = f"{'job':26}{'plants':>8}{'runs':>6}{'median s':>10}{'max s':>8}{'period':>8}  kept"
    print(header)
    for plants in (small, large):
        for job, row in tables[plants].items():
            period = PERIODS.get(job)
            kept = "" if row["kept"] is None else ("yes" if row["kept"] else "NO")
            print(
                f"{job:26}{plants:>8,}{row['runs']:>6}{row['median_s']:>10.2f}{row['max_s']:>8.2f}"
                f"{'' if period is None else period:>8}  {kept}"
            )
    print()
    print(f"{'':40}{small:>12,}{large:>12,}{'ratio':>9}")

    def line(label: str, a: float, b: float, fmt: str = ",.1f") -> None:
        print(f"{label:40}{a:>12{fmt}}{b:>12{fmt}}{b / a if a else float('nan'):>8.2f}x")

    a, b = results[small], results[large]
    line("first dbt build (s)", a["first_build_s"], b["first_build_s"])
    for job in ("ingest", "transform", "alerts", "reports"):
        line(
            f"{job}: median wall (s)",
            tables[small][job]["median_s"],
            tables[large][job]["median_s"],
            ".2f",
        )
    line("simulated hour: busy time (s)", a["hour_s"], b["hour_s"])
    line("hot store bytes per reading", a["bytes_per_reading"], b["bytes_per_reading"])
    if args.archive_day:
        line("archive one day: readings", a["readings"], b["readings"], ",.0f")
        line("archive one day: readings/s", a["readings_per_s"], b["readings_per_s"], ",.0f")
        line(
            "archive: Parquet bytes per reading",
            a["parquet_bytes_per_reading"],
            b["parquet_bytes_per_reading"],
        )
    for plants, result in results.items():
        fits = result["hour_s"] <= args.minutes * 60
        kept = all(row["kept"] is not False for row in tables[plants].values())
        print(
            f"{plants:,} plants: the hour's jobs took {result['hour_s']:.0f} s of "
            f"{args.minutes * 60} s ({'fits' if fits else 'does NOT fit'}); every job kept its "
            f"cadence: {'yes' if kept else 'NO'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
