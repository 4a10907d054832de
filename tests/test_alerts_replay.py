"""24 hours replayed the way the schedule runs: the alerts mail only about real trouble.

The simulator's history is loaded in slices (harness.backfill, appending), and after each slice
the scheduled steps run as their own processes: ``python -m lnhm.transform build`` then
``python -m alerts`` (outbox delivery). The expected mails are known from the simulator's
catalogue, independently of the code under test:

- plants 16 and 47 dry out at 5.14 %/h and fall below their 5 % threshold about 18.5 h after
  their daily watering (13:50 and 13:30 UTC), so they are dry from about 08:00 until watering:
  one problem and one recovery each within the replayed day;
- plants 8, 28 and 32 dip just below the default 15 % for about 15 minutes right before their
  watering (13:23, 14:37, 14:29 UTC): the scheduled watering fixes that, so no mail.

The day runs from 15:20 UTC (every plant just watered) to 15:20 UTC the next day, so each
plant's dry spell and watering fall inside it. The slices are an hour, not the schedule's 30
minutes, to keep the test near six minutes (25 steps, each a full dbt build of about 10 s on
an idle machine; more than 15 minutes on a loaded one). The runs fall at 20 past each hour,
when the three short dips are open (8: about 13:09-13:24, 28: 14:16-14:38, 32: 14:15-14:30):
without the sustained rule each of them gets a problem and a recovery (10 mails instead of 4
over 06:20-15:20), so the test fails without it; and 16 and 47 have been dry for more than
30 minutes by 09:20.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from alerts.botanists import page_url
from harness.services import ROOT
from lnhm.settings import from_env
from tests.test_alerts_support import read_outbox, run_job
from tests.test_dbt_support import Warehouse

pytestmark = pytest.mark.timeout(1800)  # 25 full dbt builds: about 6 minutes on an idle machine

START = datetime(2026, 12, 1, 15, 20, tzinfo=UTC)  # every simulated plant watered by 15:00
HOURS = 24
SLICE = timedelta(hours=1)
PRELOAD_HOURS = 3  # history before the replay starts (the watering of the day before)
PLANTS = 50  # ids 1..50: 8, 16, 28, 32 and 47 among them
SUBJECT_PLANT = re.compile(r"\(plant (\d+)\)")


def job(env: dict, *args: str) -> subprocess.CompletedProcess:
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


def test_a_day_replayed_mails_only_plants_16_and_47(tmp_path):
    env = {
        "LNHM_WAREHOUSE": "duckdb",
        "LNHM_DUCKDB_PATH": str(tmp_path / "lnhm.duckdb"),
        "LNHM_OUTBOX_DIR": str(tmp_path / "outbox"),
        "LNHM_ARCHIVE_URL": str(tmp_path / "archive"),
        "LNHM_PLANT_IDS": f"1-{PLANTS}",
        "LNHM_SMTP_HOST": "",
        "LNHM_REPORTS_URL": "https://plants.lnhm.example/site/",
        "DBT_TARGET_PATH": str(tmp_path / "dbt-target"),
        "DBT_LOG_PATH": str(tmp_path / "dbt-logs"),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "DO_NOT_TRACK": "1",
    }
    at = START
    hours = PRELOAD_HOURS
    while at <= START + timedelta(hours=HOURS):
        job(env, "harness.backfill", "--hours", str(hours), "--end", at.isoformat())
        job(env, "lnhm.transform", "build")
        alerts = run_job(env)
        assert alerts.returncode == 0, alerts.stderr
        hours = SLICE.total_seconds() / 3600
        at += SLICE

    mails = read_outbox(tmp_path / "outbox")
    sent = Counter(
        (int(SUBJECT_PLANT.search(m["Subject"]).group(1)), m["X-LNHM-Message-Kind"]) for m in mails
    )
    print(f"{len(mails)} mails: {sorted(sent.items())}")
    # 16 and 47 dry out about 5.5 h before their daily watering: warned once per drying cycle
    # (the one watered on 1 Dec, and the one watered on 2 Dec at 13:50 / 13:30, seen by the
    # last run at 15:20), then the incident of 2 Dec and its recovery at that watering
    assert sent == {
        (16, "warning"): 2,
        (16, "problem"): 1,
        (16, "recovery"): 1,
        (47, "warning"): 2,
        (47, "problem"): 1,
        (47, "recovery"): 1,
    }

    by_plant = {
        (int(SUBJECT_PLANT.search(m["Subject"]).group(1)), m["X-LNHM-Message-Kind"]): m
        for m in mails
    }
    for plant_id in (16, 47):
        problem = by_plant[(plant_id, "problem")].get_body(("plain",)).get_content()
        # what was measured, the threshold it broke (5 % for these two), since when, the link
        assert re.search(r"Lowest soil moisture: -?\d+\.\d %", problem)
        assert re.search(r"Threshold: +5\.0 %", problem)
        # the museum's wall clock (GMT in December) with UTC beside it
        assert re.search(r"Since: +\w{3} 02 Dec 2026 (0[78]:\d\d) GMT \(\1 UTC\)", problem)
        assert f"https://plants.lnhm.example/site/current/plants/{plant_id}.html" in problem
        html = by_plant[(plant_id, "problem")].get_body(("html",)).get_content()
        assert f'href="https://plants.lnhm.example/site/current/plants/{plant_id}.html"' in html


def test_the_link_to_the_plant_page_follows_lnhm_reports_url():
    assert page_url(from_env({}), 16) is None  # unset: no link
    site = from_env({"LNHM_REPORTS_URL": "https://plants.example.org/site"})
    assert page_url(site, 16) == "https://plants.example.org/site/current/plants/16.html"


def test_alert_after_minutes_reaches_dbt_from_the_environment(tmp_path):
    wh = Warehouse.duckdb(tmp_path)
    compiled = wh.target_path / "compiled" / "lnhm" / "models" / "marts" / "incident_alerts.sql"
    wh.dbt("compile", "--select", "incident_alerts")
    assert "< 30.0" in compiled.read_text()
    wh.env.update(LNHM_ALERT_AFTER_MINUTES="45")
    wh.dbt("compile", "--select", "incident_alerts")
    assert "< 45.0" in compiled.read_text()
    assert "between 0 and 45.0" in compiled.read_text()
