"""Wall time of the scheduled incremental build (what `make transform` runs every 5 minutes:
models and data tests, no unit tests), on DuckDB and on PostgreSQL, in three warehouses: 50
plants with 48 hours in the hot store and no older history; the same plus 14 days of long-lived
history (daily summaries, baselines, waterings, data quality, dimensions); 1,000 plants with 48
hours hot. Cost must grow with new data, not with history or plant count: the ratios history /
none and 1,000 / 50 plants are printed per target, and PostgreSQL / DuckDB per warehouse. Each
warehouse's size per raw reading it holds (B/reading) is printed too.

    .venv/bin/python bench/bench_transform.py [--targets duckdb,postgres] [--plants 50]
        [--many-plants 1000] [--history-days 14] [--hot-hours 48] [--steps 3]

Data comes from the ingest job's backfill (simulated minutely polls); the 14-day warehouse is
built once over all its days, then pruned to the same 48 hours as the other, as the archive job
would (then vacuumed / checkpointed). Each measured step loads one more minute of polls and runs
`dbt build`; the two warehouses take turns, so that load from other processes hits both alike.
Each round also times a `dbt build` that selects no node on the 50-plant warehouse: dbt's own
start-up, the floor under any per-run figure.
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
    wh.build()
    first_build = wh.timings[-1]
    if history_hours > hot_hours:
        prune_to(wh, end - timedelta(hours=hot_hours))
    wh.build()  # settle: the first incremental run after the prune
    return first_build


def step(wh: Warehouse, at: datetime, plants: int) -> float:
    """One more minute of polls, then the scheduled build (`make transform`); its wall time."""
    wh.backfill(1 / 60, at, plants)
    wh.timings.clear()
    wh.build()
    return wh.timings[-1]


def start_up(wh: Warehouse) -> float:
    """Wall time of a `dbt build` that selects no node: dbt's imports, its partial-parse check
    and manifest load, the floor under any scheduled build whatever the models do."""
    wh.timings.clear()
    wh.dbt("build", "--select", "tag:bench_selects_no_node")
    return wh.timings[-1]


def hot_bytes(wh: Warehouse) -> int:
    """What the warehouse's tables take: DuckDB's used blocks after a checkpoint (the file is
    larger); PostgreSQL's tables with their TOAST and indexes after a VACUUM (no catalog)."""
    if wh.target == "duckdb":
        wh.execute("checkpoint")
        return wh.scalar("select used_blocks * block_size from pragma_database_size()")
    wh.maintain("vacuum analyze")
    return wh.scalar(
        "select sum(pg_total_relation_size(c.oid)) from pg_class c "
        "join pg_namespace n on n.oid = c.relnamespace "
        "where c.relkind in ('r', 'm') "
        "and n.nspname in ('raw', 'staging', 'intermediate', 'marts', 'snapshots', 'alerts')"
    )


def median_ratio(a: dict, b: dict) -> str:
    return (
        f"{statistics.median(a['times']) / statistics.median(b['times']):.2f} "
        f"(medians; {min(a['times']) / min(b['times']):.2f} on minimums)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default="duckdb,postgres")
    parser.add_argument("--plants", type=int, default=50)
    parser.add_argument("--many-plants", type=int, default=1000)
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
    hot, history, many = (
        "hot only",
        f"+{args.history_days:g} d history",
        f"{args.many_plants} plants",
    )
    # (plants, hours backfilled) per scenario; all keep the same hot window
    scenarios = {
        hot: (args.plants, args.hot_hours),
        history: (args.plants, args.history_days * 24),
        many: (args.many_plants, args.hot_hours),
    }
    results: dict[tuple[str, str], dict] = {}
    starts: dict[str, list[float]] = {}  # per target, dbt's start-up (a build of no node)
    try:
        with tempfile.TemporaryDirectory(prefix="lnhm-bench-transform-") as tmp:
            for target in targets:
                houses = {}
                for name, (plants, hours) in scenarios.items():
                    folder = Path(tmp) / f"{target}-{len(results) + len(houses)}"
                    wh = make_warehouse(target, folder, postgres)
                    first = prepare(wh, hours, args.hot_hours, plants, end)
                    houses[name] = wh
                    results[(target, name)] = {"first_build_s": first, "times": []}
                # alternate the warehouses so that background load hits them alike
                for k in range(1, args.steps + 1):
                    for name, wh in houses.items():
                        t = step(wh, end + timedelta(minutes=k), scenarios[name][0])
                        results[(target, name)]["times"].append(t)
                    starts.setdefault(target, []).append(start_up(houses[hot]))
                for name, wh in houses.items():
                    r = results[(target, name)]
                    r["raw_readings"] = wh.scalar("select count(*) from raw.plant_readings")
                    r["hot_readings"] = wh.scalar("select count(*) from marts.fct_readings")
                    r["bytes_per_reading"] = hot_bytes(wh) / max(r["raw_readings"], 1)
                    r["summary_days"] = wh.scalar(
                        "select count(distinct day) from marts.plant_daily_summary"
                    )
    finally:
        if postgres is not None:
            postgres.stop()

    print()
    print(
        f"scheduled `make transform` build ({args.steps} runs each, alternating), "
        f"{args.hot_hours:g} h hot"
    )
    header = (
        f"{'target':<9} {'scenario':<16} {'hot readings':>12} {'summary days':>12} "
        f"{'first build s':>13} {'median s':>9} {'min s':>7} {'B/reading':>9}"
    )
    print(header)
    print("-" * len(header))
    for (target, name), r in results.items():
        print(
            f"{target:<9} {name:<16} {r['hot_readings']:>12} {r['summary_days']:>12} "
            f"{r['first_build_s']:>13.1f} {statistics.median(r['times']):>9.2f} "
            f"{min(r['times']):>7.2f} {r['bytes_per_reading']:>9.0f}"
        )
    print()
    for target in targets:
        floor = statistics.median(starts[target])
        build = statistics.median(results[(target, hot)]["times"])
        print(
            f"{target}: dbt build that selects no node (dbt's start-up) = {floor:.2f} s "
            f"(median; min {min(starts[target]):.2f}); the {args.plants}-plant build spends "
            f"{build - floor:.2f} s more running its nodes ({build / floor:.2f}x)"
        )
        print(
            f"{target}: build with history / without = "
            f"{median_ratio(results[(target, history)], results[(target, hot)])}"
        )
        print(
            f"{target}: build {args.many_plants} / {args.plants} plants = "
            f"{median_ratio(results[(target, many)], results[(target, hot)])}"
        )
    if {"duckdb", "postgres"} <= set(targets):
        for name in scenarios:
            print(
                f"{name}: build postgres / duckdb = "
                f"{median_ratio(results[('postgres', name)], results[('duckdb', name)])}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
