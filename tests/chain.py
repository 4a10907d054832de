"""The real chain for tests: backfill -> dbt build -> archive -> dbt build -> reports.

`build_chain(base)` runs every step as its own process, as cron runs them, on a fresh DuckDB
file (or a PostgreSQL database) and archive folder under `base`, and returns where everything
is. The history is simulated minutely polls (the harness's backfill: the simulator's model
through ingest's own row building and load path) ending at a fixed UTC time, 12:30, when the
simulated plants are dry (they are watered at 13:00-15:00), so the data does not depend on when
the tests run. The archive runs with `--now` just after that end: with the default retention of
24 h, the two whole UTC days before the day before the end are archived and pruned, so the
warehouse holds at least one archived day.

`python -m tests.chain --hours H --end ISO --plants N [--rename ID=NAME]` is the backfill step:
the harness's backfill, except that a plant may be renamed in the API's answers (a plant named
like an XSS attack goes through ingest and dbt like any other name).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
END = datetime(2026, 12, 2, 12, 30, tzinfo=UTC)
HOURS = 72
PLANTS = 6
XSS = "<script>alert(1)</script>"
XSS_ID = 3


@dataclass
class Chain:
    base: Path
    env: dict[str, str]
    end: datetime
    outputs: dict[str, dict] = field(default_factory=dict)

    @property
    def site(self) -> Path:
        """The live site (reports/publish.py switches LNHM_REPORTS_DIR/current)."""
        return Path(self.env["LNHM_REPORTS_DIR"]) / "current"

    @property
    def archive(self) -> Path:
        return Path(self.env["LNHM_ARCHIVE_URL"])

    @property
    def duckdb_path(self) -> Path:
        return Path(self.env["LNHM_DUCKDB_PATH"])

    def manifest(self) -> dict:
        path = self.archive / "manifest.json"
        return json.loads(path.read_text()) if path.exists() else {"days": {}}

    def run(self, *args: str, check: bool = True, **extra: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "-m", *args],
            cwd=ROOT,
            env={**self.env, **extra},
            capture_output=True,
            text=True,
            timeout=900,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} exited {result.returncode}:\n"
                f"{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
            )
        return result

    def step(self, name: str, *args: str) -> dict:
        """Run one job; its JSON job line (the last line of stdout) is kept under `name`."""
        result = self.run(*args)
        record = json.loads(result.stdout.strip().splitlines()[-1])
        record["stderr"] = result.stderr
        self.outputs[name] = record
        return record


def chain_env(base: Path, postgres_env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every step: nothing of the caller's LNHM_/PG/AWS settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LNHM_", "PG", "AWS_"))}
    env.update(
        {
            "LNHM_WAREHOUSE": "postgres" if postgres_env else "duckdb",
            "LNHM_DUCKDB_PATH": str(base / "lnhm.duckdb"),
            "LNHM_ARCHIVE_URL": str(base / "archive"),
            "LNHM_REPORTS_DIR": str(base / "site"),
            "DBT_TARGET_PATH": str(base / "dbt-target"),
            "DBT_LOG_PATH": str(base / "dbt-logs"),
            "DLT_DATA_DIR": str(base / "dlt"),
            "RUNTIME__DLTHUB_TELEMETRY": "false",
            "DO_NOT_TRACK": "1",
        }
    )
    env.update(postgres_env or {})
    return env


def build_chain(
    base: Path,
    *,
    plants: int = PLANTS,
    hours: float = HOURS,
    end: datetime = END,
    archive: bool = True,
    rename: dict[int, str] | None = None,
    postgres_env: dict[str, str] | None = None,
    reports: bool = True,
) -> Chain:
    """Run the chain into `base`; with archive=False the warehouse has no archived day."""
    base.mkdir(parents=True, exist_ok=True)
    env = chain_env(base, postgres_env)
    env["LNHM_PLANT_IDS"] = f"1-{plants}"
    chain = Chain(base=base, env=env, end=end)
    renames = [f"--rename={pid}={name}" for pid, name in (rename or {}).items()]
    chain.step(
        "backfill",
        "tests.chain",
        f"--hours={hours}",
        f"--end={end.isoformat()}",
        f"--plants={plants}",
        *renames,
    )
    chain.step("transform", "lnhm.transform", "build")
    if archive:
        now = (end + timedelta(minutes=1)).isoformat()
        record = chain.step("archive", "archive", f"--now={now}")
        assert record["counts"]["days_archived"] >= 1, record
        chain.step("transform_after_archive", "lnhm.transform", "build")
    if reports:
        chain.step("reports", "reports")
    return chain


# --- the backfill step ----------------------------------------------------------------------


class RenamingSimulator:
    """The simulator's model, with some plants' names replaced in its JSON answers."""

    def __init__(self, simulator, names: dict[int, str]):
        self.simulator = simulator
        self.names = names

    def respond(self, plant_id: int, at: datetime, request: int = 0):
        response = self.simulator.respond(plant_id, at, request)
        if plant_id not in self.names or response.status != 200:
            return response
        try:
            body = json.loads(response.body)
        except ValueError:
            return response
        if isinstance(body, dict) and "name" in body:
            body["name"] = self.names[plant_id]
            response = dataclasses.replace(response, body=json.dumps(body))
        return response


def _backfill(argv: list[str]) -> int:
    from harness.backfill import poll_times, simulated_chunks
    from harness.simulator.model import PlantsSimulator, SimulatorConfig
    from ingest.pipeline import load
    from lnhm import settings as lnhm_settings
    from lnhm.joblog import run_job

    parser = argparse.ArgumentParser(prog="python -m tests.chain")
    parser.add_argument("--hours", type=float, required=True)
    parser.add_argument("--end", type=datetime.fromisoformat, required=True)
    parser.add_argument("--plants", type=int, required=True)
    parser.add_argument("--rename", action="append", default=[], metavar="ID=NAME")
    args = parser.parse_args(argv)
    names = {int(pid): name for pid, _, name in (r.partition("=") for r in args.rename)}

    def job(counts: dict) -> None:
        settings = lnhm_settings.load()
        plant_ids = tuple(range(1, args.plants + 1))
        model = PlantsSimulator(SimulatorConfig(plants=args.plants))
        simulator = RenamingSimulator(model, names)
        counts.update(plants=len(plant_ids), polls=0, readings=0, failures=0)
        chunks = simulated_chunks(simulator, plant_ids, poll_times(args.hours, args.end), counts)
        load(settings, chunks, job="backfill")

    return run_job("backfill", job)


if __name__ == "__main__":
    sys.exit(_backfill(sys.argv[1:]))
