"""Wall time of the per-minute incremental `dbt build` (what `make transform` runs every minute),
on DuckDB and on PostgreSQL, with 48 hours of data in the hot store and no older history, and
with the same 48 hours hot plus 14 days of long-lived history (daily summaries, baselines,
waterings, data quality, dimensions). Incremental cost must not grow with history: the ratio
of the two is printed per target and should stay near 1.

    .venv/bin/python bench/bench_transform.py [--targets duckdb,postgres] [--plants 50]
        [--history-days 14] [--hot-hours 48] [--steps 3]

Data comes from the ingest job's backfill (simulated minutely polls); the 14-day warehouse is
built once over all its days, then pruned to the same 48 hours as the other, as the archive job
would (then vacuumed / checkpointed). Each measured step loads one more minute of polls and runs
`dbt build`; the two warehouses take turns, so that load from other processes hits both alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.test_dbt_support import Warehouse, utc_minute  # noqa: E402


def make_warehouse(target: str, folder: Path, postgres) -> Warehouse:
    folder.mkdir(parents=True, exist_ok=True)
    if target == "duckdb":
        return Warehouse.duckdb(folder)
    return Warehouse.postgres(folder, postgres.new_database("bench"))


def prune_to(wh: Warehouse, start: datetime) -> None:
    """Keep only readings recorded from `start` on in raw and fct_readings (the archive's job),
    then reclaim the space as steady-state maintenance would (PostgreSQL vacuum, a DuckDB
    checkpoint), so that dead rows of the one-off bulk prune do not count as history."""
    at = f"cast('{start:%Y-%m-%d %H:%M:%S}' as timestamp)"
    wh.execute(
        "delete from raw.plant_readings where cast(plant_id as varchar) || '|' || recording_taken "
        f"in (select reading_id from marts.fct_readings where recorded_at < {at})",
        f"delete from marts.fct_readings where recorded_at < {at}",
        f"delete from raw.plant_fetch_failures where fetched_at < {at}",
        f"delete from raw.ingest_runs where finished_at < {at}",
    )
    if wh.target == "duckdb":
        wh.execute("checkpoint")
    else:
        # VACUUM FULL: pruning 12 days at once leaves a heap 7x the hot data that plain VACUUM
        # frees but does not shrink; with the daily archive, new rows reuse the freed pages and
        # the heap stays near the hot window's size, which is what this reproduces.
        wh.maintain("vacuum full analyze")


def prepare(
    wh: Warehouse, history_hours: float, hot_hours: float, plants: int, end: datetime
) -> float:
    """Backfill, build once, prune to the hot window; return the first build's seconds."""
    print(f"  [{wh.target}] backfill {history_hours:.0f} h of {plants} plants ...", flush=True)
    wh.backfill(history_hours, end, plants)
    wh.timings.clear()
    wh.dbt("build")
    first_build = wh.timings[-1]
    if history_hours > hot_hours:
        prune_to(wh, end - timedelta(hours=hot_hours))
    wh.dbt("build")  # settle: the first incremental run after the prune
    return first_build


def step(wh: Warehouse, at: datetime, plants: int) -> float:
    """One more minute of polls, then the per-minute `dbt build`; its wall time."""
    wh.backfill(1 / 60, at, plants)
    wh.timings.clear()
    wh.dbt("build")
    return wh.timings[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default="duckdb,postgres")
    parser.add_argument("--plants", type=int, default=50)
    parser.add_argument("--history-days", type=float, default=14)
    parser.add_argument("--hot-hours", type=float, default=48)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args(argv)
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]

    postgres = None
    if "postgres" in targets:
        from harness import services

        postgres = services.start_postgres()
    end = utc_minute() - timedelta(minutes=args.steps + 2)
    scenarios = (("hot only", args.hot_hours), (f"+{args.history_days:g} d history", None))
    results: dict[tuple[str, str], dict] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="lnhm-bench-transform-") as tmp:
            for target in targets:
                houses = {}
                for name, hours in scenarios:
                    folder = Path(tmp) / f"{target}-{len(results) + len(houses)}"
                    wh = make_warehouse(target, folder, postgres)
                    first = prepare(
                        wh, hours or args.history_days * 24, args.hot_hours, args.plants, end
                    )
                    houses[name] = wh
                    results[(target, name)] = {"first_build_s": first, "times": []}
                # alternate the two warehouses so that background load hits both alike
                for k in range(1, args.steps + 1):
                    for name, wh in houses.items():
                        t = step(wh, end + timedelta(minutes=k), args.plants)
                        results[(target, name)]["times"].append(t)
                for name, wh in houses.items():
                    r = results[(target, name)]
                    r["hot_readings"] = wh.scalar("select count(*) from marts.fct_readings")
                    r["summary_days"] = wh.scalar(
                        "select count(distinct day) from marts.plant_daily_summary"
                    )
    finally:
        if postgres is not None:
            postgres.stop()

    print()
    print(
        f"per-minute `dbt build` ({args.steps} runs each, alternating), {args.plants} plants, "
        f"{args.hot_hours:g} h hot"
    )
    header = (
        f"{'target':<9} {'scenario':<16} {'hot readings':>12} {'summary days':>12} "
        f"{'first build s':>13} {'median s':>9} {'min s':>7}"
    )
    print(header)
    print("-" * len(header))
    for (target, name), r in results.items():
        print(
            f"{target:<9} {name:<16} {r['hot_readings']:>12} {r['summary_days']:>12} "
            f"{r['first_build_s']:>13.1f} {statistics.median(r['times']):>9.2f} "
            f"{min(r['times']):>7.2f}"
        )
    print()
    for target in targets:
        hot, history = (r for (t, _n), r in results.items() if t == target)
        ratio = statistics.median(history["times"]) / statistics.median(hot["times"])
        ratio_min = min(history["times"]) / min(hot["times"])
        print(
            f"{target}: per-minute build with history / without = {ratio:.2f} "
            f"(medians; {ratio_min:.2f} on minimums)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
