"""``make run``: the whole warehouse on the embedded default, from nothing to reports.

Starts the simulator, backfills history, polls once live, builds the dbt project, archives aged
days, writes the botanists' alert e-mails and the report site, then stops what it started.

Hermetic: everything lives in one folder (``data/demo/``, reset at every run): its own hot
store, archive, outbox, report site, dbt target and logs, dlt folder, home and temp folders. The
caller's environment configures nothing (no ``LNHM_*``, ``PG*``, ``AWS_*``, ``DBT_*`` or
``DLT_*`` variable is passed on, and ``LNHM_SMTP_HOST`` is empty, so no mail leaves the
machine), and nothing outside that folder is written.

Output: one line per step; each step's own output (dbt's per-node lines included) goes to
``<folder>/logs/<step>.log``, whose path is printed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from harness.services import start_simulator
from lnhm.units import format_bytes

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
MARKER = ".lnhm-demo"  # a folder holding this was made by make run and may be reset by it
# what the demo's processes may take from the caller's environment: nothing that configures
PASSED_ON = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TERM", "SSL_CERT_FILE", "SSL_CERT_DIR")


def shown(path: Path) -> str:
    """A path as the user would type it: relative to the checkout when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def demo_env(folder: Path, plants: int) -> dict[str, str]:
    env = {name: os.environ[name] for name in PASSED_ON if name in os.environ}
    env.update(
        HOME=str(folder / "home"),
        TMPDIR=str(folder / "tmp"),
        PYTHONPATH=str(ROOT),
        PYTHONDONTWRITEBYTECODE="1",
        RUNTIME__DLTHUB_TELEMETRY="false",
        DO_NOT_TRACK="1",
        DLT_DATA_DIR=str(folder / "dlt"),
        DBT_TARGET_PATH=str(folder / "dbt" / "target"),
        DBT_LOG_PATH=str(folder / "dbt" / "logs"),
        LNHM_WAREHOUSE="duckdb",
        LNHM_DUCKDB_PATH=str(folder / "lnhm.duckdb"),
        LNHM_ARCHIVE_URL=str(folder / "archive"),
        LNHM_REPORTS_DIR=str(folder / "reports"),
        LNHM_OUTBOX_DIR=str(folder / "outbox"),
        LNHM_SMTP_HOST="",  # no mail, whatever the caller's environment says
        LNHM_PLANT_IDS=f"1-{plants}",
    )
    return env


def reset(folder: Path) -> None:
    """Empty ``folder`` if it is data/demo, or make run made it, or it is empty; else refuse."""
    if folder.exists():
        ours = folder == DEMO or (folder / MARKER).exists()
        if any(folder.iterdir()) and not ours:
            sys.exit(
                f"make run: {shown(folder)} exists and was not made by make run; "
                "move it away or choose another --folder"
            )
        shutil.rmtree(folder)
    for sub in ("home", "tmp", "logs"):
        (folder / sub).mkdir(parents=True)
    (folder / MARKER).write_text("made by make run (harness/demo.py); reset at every run\n")


def _number(n) -> str:
    return f"{n:,}" if isinstance(n, int) else str(n)


def _size(n: int) -> str:
    return format_bytes(n)


def summary(job: dict, folder: Path) -> str:
    """What a step did, in a few words, from its JSON line."""
    c = job.get("counts", {})
    name = job.get("job")
    if name == "backfill":
        return (
            f"{_number(c.get('polls'))} minutely polls: {_number(c.get('readings'))} readings, "
            f"{_number(c.get('failures'))} failed requests"
        )
    if name == "ingest":
        return f"{_number(c.get('readings'))} readings, {_number(c.get('failures'))} failures"
    if name == "transform":
        said = f"{c.get('success', 0)} models, seeds and snapshots built, {c.get('pass', 0)} tests"
        others = {k: v for k, v in c.items() if k not in ("success", "pass") and v}
        return said + "".join(f", {v} {k}" for k, v in sorted(others.items()))
    if name == "archive":
        days = c.get("days") or []
        if not days:
            return "no whole day old enough yet"
        return (
            f"{', '.join(days)} to Parquet: {_number(c.get('readings'))} readings, "
            f"{_size(int(c.get('bytes') or 0))}, verified, pruned from the hot store"
        )
    if name == "alerts":
        sent = c.get("sent", 0)
        return f"{c.get('open_incidents', 0)} open incidents, {sent} e-mails" + (
            f" written to {shown(folder / 'outbox')}/ (no mail is sent)" if sent else ""
        )
    if name == "reports":
        return f"{_number(c.get('pages'))} pages, {_number(c.get('charts'))} charts"
    return job.get("outcome", "")


class Steps:
    def __init__(self, folder: Path, env: dict[str, str]):
        self.folder, self.env, self.n = folder, env, 0

    def run(self, title: str, args: list[str], show_log: bool = False) -> dict:
        self.n += 1
        log = self.folder / "logs" / f"{self.n}-{title.replace(' ', '-')}.log"
        started = time.monotonic()
        with log.open("w") as out:
            result = subprocess.run(
                [sys.executable, "-m", *args],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
            )
        seconds = time.monotonic() - started
        lines = log.read_text(errors="replace").splitlines()
        jobs = [json.loads(line) for line in lines if line.startswith('{"job"')]
        if result.returncode != 0:
            print(f"  {title:<12} FAILED (exit {result.returncode}); from {shown(log)}:")
            for line in lines[-15:]:
                print(f"    {line}")
            sys.exit(1)
        said = summary(jobs[-1], self.folder) if jobs else ""
        where = f"  (log: {shown(log)})" if show_log else ""
        print(f"  {title:<12} {said} [{seconds:.1f} s]{where}", flush=True)
        return jobs[-1] if jobs else {}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="make run", description=__doc__)
    parser.add_argument("--hours", type=int, default=48, help="hours of history to backfill")
    parser.add_argument("--plants", type=int, default=50, help="plants in the museum (50)")
    parser.add_argument(
        "--folder", type=Path, default=DEMO, help="where everything goes (data/demo; reset)"
    )
    args = parser.parse_args(argv)
    now = datetime.now(UTC)
    since_midnight_h = (now - now.replace(hour=0, minute=0, second=0, microsecond=0)).seconds / 3600
    # the oldest backfilled UTC day must have ended 24 h ago (always so with 48 h)
    needed = min(48, math.ceil(24 + since_midnight_h + 1 / 60))
    if args.hours < needed:
        parser.error(
            f"--hours must be at least {needed} now, so that a whole UTC day is old enough "
            "to archive"
        )
    folder = args.folder.resolve()
    reset(folder)
    env = demo_env(folder, args.plants)
    started = time.monotonic()
    print(
        f"make run: a simulated museum of {args.plants} plants, {args.hours} h of history, "
        f"everything in {shown(folder)}/",
        flush=True,
    )
    simulator = start_simulator("--plants", str(args.plants))
    env["LNHM_API_URL"] = simulator.url
    print(f"  {'simulator':<12} the plants API on {simulator.url}", flush=True)
    steps = Steps(folder, env)
    try:
        steps.run("backfill", ["harness.backfill", "--hours", str(args.hours)])
        steps.run("live poll", ["ingest", "poll"])
        steps.run("dbt build", ["lnhm.transform", "build"], show_log=True)
        steps.run("archive", ["archive"])
        steps.run("dbt build", ["lnhm.transform", "build"])
        steps.run("alerts", ["alerts"])
        steps.run("reports", ["reports"])
    finally:
        simulator.stop()
    print(
        f"Done in {time.monotonic() - started:.0f} s. Open {shown(folder / 'reports')}/index.html\n"
        f"  hot store {shown(folder / 'lnhm.duckdb')}, archive {shown(folder / 'archive')}/, "
        f"e-mails {shown(folder / 'outbox')}/, step logs {shown(folder / 'logs')}/"
    )


if __name__ == "__main__":
    main()
