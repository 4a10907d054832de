"""``make transform``: dbt build on the configured target, holding the hot store's writer lock.

dbt runs as a subprocess with no per-run ``--vars``, so partial parsing stays warm between the
per-minute runs.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
from pathlib import Path

from lnhm import settings as settings_module
from lnhm.joblog import JobFailed, run_job
from lnhm.locking import writer_lock

ROOT = Path(__file__).resolve().parents[1]


def dbt_command(args: list[str], target: str) -> list[str]:
    dbt = Path(sys.executable).with_name("dbt")
    return [str(dbt), *args, "--profiles-dir", str(ROOT), "--target", target]


def run_dbt(args: list[str], counts: dict) -> None:
    settings = settings_module.load()
    env = {**os.environ, "DO_NOT_TRACK": "1"}
    command = " ".join(args)
    # dbt-duckdb opens the file for writing, so even freshness checks queue behind writers.
    with writer_lock(settings, job=f"dbt {command}"):
        result = subprocess.run(
            dbt_command(args, settings.dbt_target), cwd=ROOT, env=env, check=False
        )
    target_path = Path(env.get("DBT_TARGET_PATH", ROOT / "target"))
    results_file = target_path / ("sources.json" if args[0] == "source" else "run_results.json")
    if results_file.exists():
        results = json.loads(results_file.read_text()).get("results", [])
        counts.update(collections.Counter(str(r.get("status")) for r in results))
    if result.returncode != 0:
        raise JobFailed(f"dbt {command} exited with {result.returncode} (see dbt's log above)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lnhm.transform", description=__doc__)
    parser.add_argument("command", choices=["build", "freshness"])
    args = parser.parse_args(argv)
    if args.command == "build":
        return run_job("transform", lambda counts: run_dbt(["build"], counts))
    return run_job("freshness", lambda counts: run_dbt(["source", "freshness"], counts))


if __name__ == "__main__":
    sys.exit(main())
