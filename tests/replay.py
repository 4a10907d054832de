"""The alerts replay (issue 11's acceptance): the simulator's history replayed the way the
schedule runs, and the mails that replay must send, worked out from the simulator's catalogue.

`run_schedule` loads the history in 30-minute slices (harness.backfill, appending) and after each
slice runs the scheduled steps as their own processes: ``python -m lnhm.transform build`` (the
schedule's exact command, a full build) then ``python -m alerts`` (outbox delivery).

`expected_mails` is the independent answer: from each plant's daily watering time and drying
rate (harness.simulator.catalogue) and its low threshold (seeds/care_thresholds.csv), when each
plant is below its threshold; then, run by run, what the issue's rules mail:

- a breach is mailed (problem) at the first run when it has lasted ALERT_AFTER, unless the
  plant's daily watering is due within ALERT_AFTER; its recovery at the first run after the
  watering ended it;
- a plant that will be dry for at least ALERT_AFTER before its next watering is warned once per
  drying cycle, at the first run of the cycle before it is dry.

Plants 16 and 47 (5.14 %/h, threshold 5 %) are dry for about 5.5 h before every watering;
plants 8, 28 and 32 dip below 15 % for about 15 minutes right before theirs (13:23, 14:37,
14:29 UTC) and a run falls inside each dip (13:20, 14:20): a replay without the sustained rule
mails them. The replayed day runs from 15:20 UTC (every plant just watered) to 15:20 UTC the
next day; the preload (12:20-15:20) holds the day before's watering.
"""

from __future__ import annotations

import csv
import email
import email.policy
import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness.backfill import offset_s
from harness.services import ROOT
from harness.simulator.catalogue import NOT_FOUND_IDS, ON_LOAN_IDS, Catalogue
from tests.test_alerts_support import run_job

START = datetime(2026, 12, 1, 15, 20, tzinfo=UTC)  # every simulated plant watered by 15:00
HOURS = 24
END = START + timedelta(hours=HOURS)
SLICE = timedelta(minutes=30)  # the schedule: transform + alerts every 30 minutes
PRELOAD_FROM = START - timedelta(hours=3)  # the watering of the day before
PLANTS = 50  # ids 1..50: 8, 16, 28, 32 and 47 among them
ALERT_AFTER = timedelta(minutes=30)  # LNHM_ALERT_AFTER_MINUTES' default
NOISE = (8, 28, 32)  # short dips right before watering: never mailed
SUBJECT_PLANT = re.compile(r"\(plant (\d+)\)")
MINUTE = timedelta(minutes=1)


def runs(first: datetime, last: datetime, step: timedelta = SLICE) -> list[datetime]:
    """The schedule's run times from `first` to `last`, both included."""
    out = []
    at = first
    while at <= last:
        out.append(at)
        at += step
    return out


# ---------------------------------------------------------------------- the expected answer
def low_thresholds() -> dict[int | None, float]:
    """Each plant's low soil-moisture threshold (None: the default row)."""
    with (ROOT / "seeds" / "care_thresholds.csv").open() as f:
        return {
            (int(row["plant_id"]) if row["plant_id"] else None): float(row["soil_moisture_pct_min"])
            for row in csv.DictReader(f)
        }


@dataclass(frozen=True)
class DrySpell:
    plant_id: int
    watered_at: datetime  # the watering the drying cycle began with
    dry_from: datetime  # soil moisture below the plant's threshold from then...
    watered_again_at: datetime  # ...until the next daily watering


def dry_spells(since: datetime, until: datetime) -> list[DrySpell]:
    """Every plant's dry spells of the drying cycles that begin before `until` and end after
    `since`, from the simulator's catalogue (moisture = 100 - rate x hours since watering)."""
    catalogue = Catalogue(PLANTS)
    thresholds = low_thresholds()
    spells = []
    for plant_id in range(1, PLANTS + 1):
        if plant_id in NOT_FOUND_IDS | ON_LOAN_IDS:
            continue
        plant = catalogue.plant(plant_id)
        threshold = thresholds.get(plant_id, thresholds[None])
        drying = timedelta(hours=(100.0 - threshold) / plant.dry_rate_per_hour)
        day = since.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
        while day < until:
            watered = day + timedelta(seconds=plant.watering_s)
            again = watered + timedelta(days=1)
            if watered + drying < again and again > since and watered < until:
                spells.append(DrySpell(plant_id, watered, watered + drying, again))
            day += timedelta(days=1)
    return spells


def seen_at(plant_id: int, event: datetime) -> datetime:
    """The first poll minute whose reading of the plant shows `event` (a crossing, a watering):
    the poll's reading is taken at its minute plus the plant's offset of seconds."""
    minute = event.replace(second=0, microsecond=0)
    while minute + timedelta(seconds=offset_s(plant_id, int(minute.timestamp()) // 60)) < event:
        minute += MINUTE
    return minute


def expected_mails(schedule: list[datetime]) -> list[tuple[datetime, int, str]]:
    """(run, plant, kind) of every mail the runs at `schedule` send, by the issue's rules, for a
    warehouse holding the simulator's history from PRELOAD_FROM (the first run sends what is
    due by then: a schedule starting late catches up)."""
    mails = []
    for spell in dry_spells(PRELOAD_FROM, schedule[-1]):
        pid = spell.plant_id
        watered, dry, again = (
            seen_at(pid, spell.watered_at),
            seen_at(pid, spell.dry_from),
            seen_at(pid, spell.watered_again_at),
        )
        if spell.watered_again_at - spell.dry_from >= ALERT_AFTER:
            # warned before it is dry, by a run that sees the watering the cycle began with
            warned = [at for at in schedule if max(watered, PRELOAD_FROM) <= at < dry]
            if warned:
                mails.append((warned[0], pid, "warning"))
        problem = None
        for at in schedule:
            if not dry <= at < again:
                continue
            # sustained: the breach's readings span ALERT_AFTER (readings' seconds could tip
            # an exact ALERT_AFTER either way)
            assert at - dry != ALERT_AFTER, (pid, at)
            # held while the daily watering is due within ALERT_AFTER
            due_in = spell.watered_again_at - at
            assert abs(due_in - ALERT_AFTER) > MINUTE, (pid, at)
            if at - dry > ALERT_AFTER and due_in > ALERT_AFTER:
                problem = at
                break
        if problem:
            mails.append((problem, pid, "problem"))
            recovered = [at for at in schedule if at >= again]
            if recovered:
                mails.append((recovered[0], pid, "recovery"))
    return sorted(mails)


def by_plant_and_kind(mails) -> Counter:
    return Counter((pid, kind) for _, pid, kind in mails)


# ---------------------------------------------------------------------- the replay
@dataclass
class Replay:
    tmp: Path
    env: dict[str, str]
    mails_by_run: dict[datetime, list]

    @property
    def mails(self) -> list:
        return [m for batch in self.mails_by_run.values() for m in batch]


def sent(mails) -> Counter:
    return Counter(
        (int(SUBJECT_PLANT.search(m["Subject"]).group(1)), m["X-LNHM-Message-Kind"]) for m in mails
    )


def _job(env: dict, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"{args}: {result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    return result


def run_schedule(tmp: Path, schedule: list[datetime]) -> Replay:
    """Backfill from PRELOAD_FROM up to each run time, then transform and alerts, per run."""
    env = {
        "LNHM_WAREHOUSE": "duckdb",
        "LNHM_DUCKDB_PATH": str(tmp / "lnhm.duckdb"),
        "LNHM_OUTBOX_DIR": str(tmp / "outbox"),
        "LNHM_ARCHIVE_URL": str(tmp / "archive"),
        "LNHM_PLANT_IDS": f"1-{PLANTS}",
        "LNHM_SMTP_HOST": "",
        "LNHM_REPORTS_URL": "https://plants.lnhm.example/site/",
        "DBT_TARGET_PATH": str(tmp / "dbt-target"),
        "DBT_LOG_PATH": str(tmp / "dbt-logs"),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "DO_NOT_TRACK": "1",
    }
    replay = Replay(tmp, env, {})
    loaded_until = PRELOAD_FROM
    seen: set[str] = set()
    for at in schedule:
        hours = (at - loaded_until).total_seconds() / 3600
        _job(env, "harness.backfill", "--hours", str(hours), "--end", at.isoformat())
        loaded_until = at
        _job(env, "lnhm.transform", "build")
        alerts = run_job(env)
        assert alerts.returncode == 0, alerts.stderr
        outbox = tmp / "outbox"
        new = [p for p in sorted(outbox.glob("*.eml")) if p.name not in seen]
        replay.mails_by_run[at] = [
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in new
        ]
        seen.update(p.name for p in new)
    return replay


def check_problem_mails(replay: Replay) -> None:
    """What a problem mail of 16 or 47 says: what was measured, the threshold it broke (5 % for
    these two), since when, the link to the plant page."""
    for mail in replay.mails:
        if mail["X-LNHM-Message-Kind"] != "problem":
            continue
        plant_id = int(SUBJECT_PLANT.search(mail["Subject"]).group(1))
        text = mail.get_body(("plain",)).get_content()
        assert re.search(r"Lowest soil moisture: -?\d+\.\d %", text)
        assert re.search(r"Threshold: +5\.0 %", text)
        # the museum's wall clock (GMT in December) with UTC beside it
        assert re.search(r"Since: +\w{3} 02 Dec 2026 (0[78]:\d\d) GMT \(\1 UTC\)", text)
        assert f"https://plants.lnhm.example/site/current/plants/{plant_id}.html" in text
        html = mail.get_body(("html",)).get_content()
        assert f'href="https://plants.lnhm.example/site/current/plants/{plant_id}.html"' in html
