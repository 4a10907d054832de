"""Issue 11: the moisture bar's colour agrees with dbt's verdict on the plant, not a fixed scale
(before, a <meter low=20 high=90> showed a just-watered 98 % plant yellow and 20 % green whatever
the plant's thresholds and incidents said).

The plants table is rendered from rows shaped like rpt_plants / rpt_incidents and read in
headless Chromium with the site's stylesheet; the expected colours are the stylesheet's --ok and
--crit written out by hand (#1e6b34 and #8e1b14)."""

from __future__ import annotations

import shutil
from datetime import datetime

import pytest

from reports.build import STATIC, make_env, moisture_state

GREEN, RED, GREY = "rgba(30, 107, 52, 1)", "rgba(142, 27, 20, 1)", "rgba(63, 74, 85, 1)"
NOW = datetime(2026, 12, 3, 12, 0)


def plant(pid: int, moisture: float, status: str = "ok") -> dict:
    return {
        "plant_id": pid,
        "plant_name": f"Plant {pid}",
        "status": status,
        "soil_moisture_pct": moisture,
        "temperature_c": 20.0,
        "hours_since_watered": 1.0,
        "dry_expected_at": None,
        "latest_recorded_at": NOW,
        "open_incidents": 0,
        "botanist_id": None,
        "botanist_name": None,
    }


def incident(pid: int, kind: str, severity: str) -> dict:
    return {"plant_id": pid, "kind": kind, "severity": severity, "is_open": True}


@pytest.mark.parametrize(
    ("row", "incidents", "expected"),
    [
        (plant(1, 98.0), [], "ok"),  # just watered: not an over-watering incident
        (plant(2, 20.0, "critical"), [incident(2, "moisture_low", "critical")], "critical"),
        (plant(3, 60.0, "critical"), [incident(3, "temperature_high", "critical")], "ok"),
        (plant(4, 4.0, "critical"), [incident(9, "moisture_low", "critical")], "ok"),
        (plant(5, 40.0, "missing"), [], "unknown"),
        (plant(6, 40.0, "sensor_fault"), [incident(6, "moisture_high", "critical")], "unknown"),
        (plant(7, 3.0, "warning"), [incident(7, "moisture_low", "warning")], "warning"),
    ],
)
def test_moisture_state_follows_the_plants_open_moisture_incident(row, incidents, expected):
    assert moisture_state(row, incidents) == expected


def test_bar_colour_in_chromium(tmp_path, chromium):
    from selenium.webdriver.common.by import By

    rows = [plant(1, 98.0), plant(2, 20.0, "critical"), plant(5, 40.0, "missing")]
    incidents = [incident(2, "moisture_low", "critical")]
    for row in rows:
        row["moisture_state"] = moisture_state(row, incidents)
    env = make_env("x@example.org", NOW)
    html = env.from_string(
        '{% from "_macros.html" import plants_table %}<!doctype html><title>t</title>'
        '<link rel="stylesheet" href="style.css">{{ plants_table(rows, show_botanist=false) }}'
    ).render(rows=rows)
    shutil.copy(STATIC / "style.css", tmp_path / "style.css")
    (tmp_path / "t.html").write_text(html, encoding="utf-8")
    chromium.get((tmp_path / "t.html").as_uri())
    shown = {}
    for row in chromium.find_elements(By.CSS_SELECTOR, "tr[data-plant-id]"):
        fill = row.find_element(By.CSS_SELECTOR, ".mbar > span")
        shown[int(row.get_attribute("data-plant-id"))] = (
            fill.value_of_css_property("background-color"),
            fill.get_attribute("style"),
        )
    assert shown == {
        1: (GREEN, "width: 98%;"),
        2: (RED, "width: 20%;"),
        5: (GREY, "width: 40%;"),
    }
