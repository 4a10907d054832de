"""The scheduled build (`make transform`) of two or more checkouts of this project side by side,
on copies of one warehouse: to measure a change to the dbt project against the code before it
(e.g. a `git worktree` or `git archive` of main). Not part of `make bench` (it needs the other
checkout); figures are wall seconds per build and dbt's own elapsed time, with the ratio of the
medians, because the machine's load hits the alternating builds alike.

    .venv/bin/python bench/compare_builds.py /path/to/old/checkout . [--plants 50] [--hours 48]
        [--rounds 3]

Each checkout is run with its own `lnhm.transform.SCHEDULED_BUILD`, after one `FULL_BUILD`;
`checkout::args` adds dbt arguments (e.g. `.::--threads 2`). One warehouse is backfilled and
built once with the first checkout, then copied per checkout; each round loads one more minute
of polls into each copy and builds it.
"""

from __future__ import annotations

import argparse
import ast
import collections
import json
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tests.test_dbt_support as support  # noqa: E402
from tests.test_dbt_support import Warehouse, utc_minute  # noqa: E402


def builds(checkout: Path) -> tuple[list[str], list[str]]:
    """The checkout's build of every node and its scheduled build (the same in checkouts from
    before the scheduled build left out the seeds and views)."""
    code = (
        "import lnhm.transform as t; "
        "print(repr((getattr(t, 'FULL_BUILD', t.SCHEDULED_BUILD), t.SCHEDULED_BUILD)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=checkout, capture_output=True, text=True, check=True
    ).stdout
    return ast.literal_eval(out.strip())


def build(checkout: Path, wh: Warehouse, args: list[str]) -> float:
    support.REPO = checkout  # dbt runs in that checkout's project
    started = time.perf_counter()
    wh.dbt(*args)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="+", help="checkout[::extra dbt args]")
    parser.add_argument("--plants", type=int, default=50)
    parser.add_argument("--hours", type=float, default=48)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    runs = []
    for spec in args.checkouts:
        path, _, extra = spec.partition("::")
        checkout = Path(path).resolve()
        full, scheduled = builds(checkout)
        runs.append((checkout, full + shlex.split(extra), scheduled + shlex.split(extra)))

    end = utc_minute() - timedelta(minutes=args.rounds + 5)
    with tempfile.TemporaryDirectory(prefix="lnhm-compare-builds-") as tmp:
        seed = Warehouse.duckdb(Path(tmp))
        print(f"backfill {args.hours:g} h of {args.plants} plants, first build ...", flush=True)
        seed.backfill(args.hours, end, args.plants)
        build(runs[0][0], seed, runs[0][1])
        houses = []
        for i, (checkout, full_args, build_args) in enumerate(runs):
            folder = Path(tmp) / f"copy-{i}"
            folder.mkdir()
            shutil.copy(seed.duckdb_path, folder / "hot.duckdb")
            wh = Warehouse.duckdb(folder)
            wh.backfill(1 / 60, end + timedelta(minutes=1), args.plants)
            # parse this checkout, build its seeds and views, settle its first increment
            build(checkout, wh, full_args)
            houses.append((checkout, build_args, wh))
        walls, elapsed = collections.defaultdict(list), collections.defaultdict(list)
        for r in range(args.rounds):
            for i, (checkout, build_args, wh) in enumerate(houses):
                wh.backfill(1 / 60, end + timedelta(minutes=r + 2), args.plants)
                wall = build(checkout, wh, build_args)
                results = json.loads((wh.target_path / "run_results.json").read_text())
                kinds = collections.Counter(
                    x["unique_id"].split(".")[0] for x in results["results"]
                )
                walls[i].append(wall)
                elapsed[i].append(results["elapsed_time"])
                nodes = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
                print(
                    f"round {r} [{i}] {checkout}: wall {wall:.2f} s, "
                    f"dbt {results['elapsed_time']:.2f} s, {nodes}",
                    flush=True,
                )
        print()
        for i, (checkout, build_args, wh) in enumerate(houses):
            readings = wh.scalar("select count(*) from marts.fct_readings")
            distinct = wh.scalar("select count(distinct reading_id) from marts.fct_readings")
            wall, dbt = statistics.median(walls[i]), statistics.median(elapsed[i])
            print(
                f"[{i}] {checkout} {' '.join(build_args)}: wall median {wall:.2f} s "
                f"(min {min(walls[i]):.2f}), dbt median {dbt:.2f} s; "
                f"fct_readings {readings} ({distinct} distinct)"
            )
            if i:
                wall0, dbt0 = statistics.median(walls[0]), statistics.median(elapsed[0])
                print(
                    f"    [{i}] / [0] = {wall / wall0:.2f} (wall), {dbt / dbt0:.2f} (dbt elapsed)"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
