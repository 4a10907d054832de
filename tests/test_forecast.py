"""marts.plant_status.dry_expected_at against the simulator's own future.

Six hours of simulated polls of 50 plants end at 02:00 UTC; dbt builds the warehouse and
forecasts when plants 16 and 47 (fast-drying, threshold 5 %, seed care_thresholds) fall below
their threshold. The answer comes independently from the simulator model itself: it is asked,
minute by minute after 02:00, what the plants' sensors report, and the first minute from which
the moisture stays below 5 % is the real crossing (about six hours later). The forecast must be
within 30 minutes of it, on DuckDB and on PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from harness.simulator.model import PlantsSimulator, SimulatorConfig
from tests.test_dbt_support import Warehouse, utc_minute

pytestmark = pytest.mark.timeout(900)

FAST_DRYING = (16, 47)
THRESHOLD_PCT = 5.0  # seeds/care_thresholds.csv rows for plants 16 and 47
TOLERANCE = timedelta(minutes=30)


def last_two_am() -> datetime:
    """The latest 02:00 UTC not in the future (naive UTC): plants 16 and 47 are drying then."""
    now = utc_minute()
    end = now.replace(hour=2, minute=0)
    return end - timedelta(days=1) if end > now else end


def real_crossing(plant_id: int, after: datetime) -> datetime:
    """The first minute after `after` from which the simulator's reported moisture stays below
    the threshold for 5 valid readings in a row (a single glitch reading is not the crossing)."""
    simulator = PlantsSimulator(SimulatorConfig(plants=50, seed=42))
    below: list[datetime] = []
    for minute in range(1, 24 * 60):
        at = after + timedelta(minutes=minute)
        response = simulator.respond(plant_id, at.replace(tzinfo=UTC))
        if response.status != 200 or not response.body.startswith("{"):
            continue  # a fault: no reading this minute
        try:
            moisture = float(json.loads(response.body)["soil_moisture"])
        except (ValueError, KeyError):
            continue
        below = [*below, at] if moisture < THRESHOLD_PCT else []
        if len(below) == 5:
            return below[0]
    raise AssertionError(f"plant {plant_id} never fell below {THRESHOLD_PCT} % after {after}")


def check_forecast(warehouse: Warehouse) -> None:
    end = last_two_am()
    warehouse.backfill(6, end, plants=50)
    warehouse.dbt("build")
    rows = warehouse.query(
        "select plant_id, dry_expected_at from marts.plant_status"
        f" where plant_id in {FAST_DRYING} order by plant_id"
    )
    forecast = dict(rows)
    assert set(forecast) == set(FAST_DRYING)
    for plant_id in FAST_DRYING:
        real = real_crossing(plant_id, end)
        assert real - end > timedelta(hours=2), "the crossing should be hours ahead of 02:00"
        predicted = forecast[plant_id]
        assert predicted is not None, f"plant {plant_id}: no forecast"
        assert abs(predicted - real) <= TOLERANCE, (plant_id, predicted, real)


def test_forecast_on_duckdb(tmp_path):
    check_forecast(Warehouse.duckdb(tmp_path))


def test_forecast_on_postgres(tmp_path, postgres_env):
    check_forecast(Warehouse.postgres(tmp_path, postgres_env))
