"""marts.early_warnings against the simulator's own schedule.

26 hours of simulated polls of 50 plants (two waterings each, so each has a usual interval)
end at 02:00 UTC and dbt builds the warehouse. The answers come from the simulator
independently: its catalogue's daily watering time of each plant (watering_s) is the next
expected watering, and its readings minute by minute after 02:00 say
which plants really fall below their 5 % threshold more than 30 minutes (alert_after_minutes)
before that watering. Only plants 16 and 47 do; they must be the only early warnings, with the
next watering at the catalogue's time and a stable warning_id from one build to the next, on
DuckDB and on PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from harness.simulator.catalogue import Catalogue
from tests.test_dbt_support import Warehouse
from tests.test_forecast import last_two_am, real_crossing

pytestmark = pytest.mark.timeout(900)

ALERT_AFTER = timedelta(minutes=30)


def next_watering(plant_id: int, after):
    """The simulator's next daily watering of the plant after `after` (naive UTC)."""
    seconds = Catalogue(50).plant(plant_id).watering_s
    at = after.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(seconds=seconds)
    return at if at > after else at + timedelta(days=1)


def check_early_warnings(warehouse: Warehouse) -> None:
    end = last_two_am()
    warehouse.backfill(26, end, plants=50)
    # what early_warnings is built from, with its data tests (the unit tests run in test_dbt)
    warehouse.dbt(
        "build",
        "--select",
        "+early_warnings",
        "--indirect-selection",
        "cautious",  # not the tests of relationships to models outside it
        "--exclude-resource-type",
        "unit_test",
    )
    rows = warehouse.query(
        "select plant_id, warning_id, next_watering_at, dry_expected_at"
        " from marts.early_warnings order by plant_id"
    )
    by_plant = {r[0]: r for r in rows}
    assert sorted(by_plant) == [16, 47], rows
    for plant_id in (16, 47):
        watering = next_watering(plant_id, end)
        real = real_crossing(plant_id, end)
        assert watering - real > ALERT_AFTER, (plant_id, real, watering)
        _, warning_id, expected_watering, dry_at = by_plant[plant_id]
        assert abs(expected_watering - watering) < timedelta(minutes=1), expected_watering
        assert dry_at < expected_watering
    # the key is the drying cycle's: a rebuild (a later run) keeps it
    warehouse.dbt("build", "--select", "early_warnings")
    again = dict(warehouse.query("select plant_id, warning_id from marts.early_warnings"))
    assert again == {p: by_plant[p][1] for p in (16, 47)}


def test_early_warnings_on_duckdb(tmp_path):
    check_early_warnings(Warehouse.duckdb(tmp_path))


def test_early_warnings_on_postgres(tmp_path, postgres_env):
    check_early_warnings(Warehouse.postgres(tmp_path, postgres_env))
