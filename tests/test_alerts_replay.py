"""24 hours replayed the way the schedule runs (transform + alerts every 30 minutes): the alerts
mail only about real trouble (issue 11's acceptance).

The replay itself (tests/replay.py) is split in two files, so the two halves of the day run at
the same time on the two test workers: test_alerts_replay_night.py (the runs from 15:20 to
02:50) and test_alerts_replay_day.py (03:20 to 15:20, on a warehouse loaded up to 03:20 at
once, whose first run must mail exactly what the night's runs mailed). This file checks the
expected answer both halves compare with, against the simulator itself, and the settings the
replay relies on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alerts.botanists import page_url
from harness.simulator.model import PlantsSimulator, SimulatorConfig
from lnhm.settings import from_env
from tests.replay import (
    END,
    NOISE,
    PLANTS,
    PRELOAD_FROM,
    START,
    by_plant_and_kind,
    dry_spells,
    expected_mails,
    low_thresholds,
    runs,
)
from tests.test_dbt_support import Warehouse

NIGHT = runs(START, datetime(2026, 12, 2, 2, 50, tzinfo=UTC))
DAY = runs(datetime(2026, 12, 2, 3, 20, tzinfo=UTC), END)
# 16 and 47 dry out about 5.5 h before their daily watering: warned once per drying cycle (the
# one watered on 1 Dec, and the one watered on 2 Dec at 13:50 / 13:30, seen by the runs after
# it), then the incident of 2 Dec and its recovery at that watering
THE_DAY = {
    (16, "warning"): 2,
    (16, "problem"): 1,
    (16, "recovery"): 1,
    (47, "warning"): 2,
    (47, "problem"): 1,
    (47, "recovery"): 1,
}


def moisture(plant_id: int, at: datetime) -> float:
    """The simulator's own reading (its model, in-process)."""
    import json

    simulator = PlantsSimulator(SimulatorConfig(plants=PLANTS, sensor_fault_rate=0.0))
    return json.loads(simulator.respond(plant_id, at).body)["soil_moisture"]


def test_the_dry_spells_are_the_simulators():
    thresholds = low_thresholds()
    spells = dry_spells(PRELOAD_FROM, END)
    assert {s.plant_id for s in spells} >= {8, 16, 28, 32, 47}
    for spell in spells:
        threshold = thresholds.get(spell.plant_id, thresholds[None])
        a_bit = min(timedelta(minutes=1), (spell.watered_again_at - spell.dry_from) / 2)
        assert moisture(spell.plant_id, spell.dry_from - a_bit) >= threshold, spell
        assert moisture(spell.plant_id, spell.dry_from + a_bit) < threshold, spell
        assert moisture(spell.plant_id, spell.watered_again_at - a_bit) < threshold, spell
        assert moisture(spell.plant_id, spell.watered_again_at + a_bit) > 99, spell


def test_the_day_every_30_minutes_mails_16_and_47_once_per_incident_and_cycle():
    day = runs(START, END)
    assert len(day) == 49 and day == NIGHT + DAY
    mails = expected_mails(day)
    assert by_plant_and_kind(mails) == THE_DAY
    at = {(pid, kind): run for run, pid, kind in mails if run > START}
    # sustained 30 minutes (16 is dry from 08:19, 47 from 07:59): both mailed at 08:50
    assert at[(16, "problem")] == at[(47, "problem")] == datetime(2026, 12, 2, 8, 50, tzinfo=UTC)
    # the first runs after the waterings (47 at 13:30, 16 at 13:50:40) end the incidents
    assert at[(47, "recovery")] == datetime(2026, 12, 2, 13, 50, tzinfo=UTC)
    assert at[(16, "recovery")] == datetime(2026, 12, 2, 14, 20, tzinfo=UTC)
    # hourly runs would send the same mails: the half-hours change when, not what
    assert by_plant_and_kind(expected_mails(runs(START, END, timedelta(hours=1)))) == THE_DAY


def test_the_noise_candidates_are_below_their_threshold_during_a_run():
    """8, 28 and 32 dip below 15 % right before their watering, and a run falls inside each dip:
    the rules (sustained 30 minutes, the watering due) must hold them, not the schedule."""
    day = runs(START, END)
    for plant_id in NOISE:
        [dip] = [s for s in dry_spells(START, END) if s.plant_id == plant_id and s.dry_from < END]
        assert dip.watered_again_at - dip.dry_from < timedelta(minutes=30)
        assert [at for at in day if dip.dry_from < at < dip.watered_again_at], plant_id


def test_the_day_half_catches_up_with_what_the_night_half_mailed():
    night, day = expected_mails(NIGHT), expected_mails(DAY)
    caught_up = [m for m in day if m[0] == DAY[0]]
    assert (
        by_plant_and_kind(caught_up)
        == by_plant_and_kind(night)
        == {
            (16, "warning"): 1,
            (47, "warning"): 1,
        }
    )
    assert (
        by_plant_and_kind(night) + by_plant_and_kind(day) - by_plant_and_kind(caught_up) == THE_DAY
    )


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
