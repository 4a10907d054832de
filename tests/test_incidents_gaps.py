"""A gap in the data ends an incident (issue 11), on the real chain (DuckDB, the product's own
jobs, each its own process):

- the real captures (tests/fixtures/plants-api/), years apart: plants 16 and 47 are dry in the
  2023 poll, in the 20 polls of 6 August 2024 and in the poll 90 minutes later, and watered in
  2025. Before this rule their dry readings made one incident from 31 Aug 2023 to 4 Feb 2025;
  now the 20 polls are one incident, closed at its last dry reading when the data stops, and
  every gap is a no_reading incident (and a feed_down one);
- the simulator: plant 16 dry at 12:30, nothing for two days, dry again: the incident open at
  the first build closes at the gap with the same id, a new one opens, nothing is doubled.

The expected incidents are recomputed here in Python from what was loaded (the fixtures, or
raw.plant_readings), with the documented rules, not read back from dbt.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from tests.captures import polls
from tests.chain import ROOT, Chain, build_chain, chain_env

pytestmark = pytest.mark.timeout(900)

MISSING = timedelta(minutes=10)  # var missing_after_minutes
MIN_READINGS = 3  # var anomaly_min_consecutive_readings
READING_KINDS = (
    "moisture_low",
    "moisture_high",
    "temperature_low",
    "temperature_high",
    "baseline_deviation",
    "sensor_faults",
)


def low_thresholds() -> tuple[float, dict[int, float]]:
    """The seed care_thresholds' soil moisture minimum: the default and each plant's own."""
    default, own = None, {}
    with (ROOT / "seeds" / "care_thresholds.csv").open() as f:
        for row in csv.DictReader(f):
            if row["plant_id"]:
                own[int(row["plant_id"])] = float(row["soil_moisture_pct_min"])
            else:
                default = float(row["soil_moisture_pct_min"])
    return default, own


def expected(readings: list[tuple[int, datetime, float | None]], clock: datetime) -> set[tuple]:
    """(plant_id, kind, started_at, ended_at, readings) of the moisture_low, no_reading and
    feed_down incidents the rules give for these readings (plant, recorded at, moisture)."""
    default, own = low_thresholds()
    by_plant: dict[int, dict[datetime, float | None]] = defaultdict(dict)
    for plant_id, at, moisture in readings:
        by_plant[plant_id].setdefault(at, moisture)  # a repeated recording time is a duplicate
    found = set()

    def gaps(times: list[datetime], plant_id: int | None, kind: str) -> None:
        for at, following in zip(times, [*times[1:], None], strict=True):
            if (following or clock) - at > MISSING:
                found.add((plant_id, kind, at, following, 0))

    for plant_id, series in by_plant.items():
        times = sorted(series)
        gaps(times, plant_id, "no_reading")
        observed = [(at, series[at]) for at in times if series[at] is not None]
        threshold = own.get(plant_id, default)
        run: list[datetime] = []
        for i, (at, moisture) in enumerate(observed):
            following = observed[i + 1][0] if i + 1 < len(observed) else None
            if moisture < threshold:
                run.append(at)
            if run and (moisture >= threshold or following is None or following - at > MISSING):
                # the run ends here: at the next reading that is not low, or at its last low
                # reading when the data stops (a gap, or nothing yet for longer than the rule)
                if moisture >= threshold or (following or clock) - at > MISSING:
                    ended = at
                else:
                    ended = following
                if len(run) >= MIN_READINGS:
                    found.add((plant_id, "moisture_low", run[0], ended, len(run)))
                run = []
    gaps(sorted({at for series in by_plant.values() for at in series}), None, "feed_down")
    return found


def incidents(con, kinds: tuple[str, ...]) -> set[tuple]:
    rows = con.execute(
        "select plant_id, kind, started_at, ended_at, readings from marts.fct_incidents"
        f" where kind in {kinds!r}"
    ).fetchall()
    assert len(rows) == len(set(rows)), "an incident is doubled"
    return set(rows)


def no_breach_spans_a_gap(con) -> None:
    """No reading-based incident contains a no_reading incident of its plant."""
    spanning = con.execute(
        "select b.incident_id from marts.fct_incidents as b"
        " inner join marts.fct_incidents as g"
        " on b.plant_id = g.plant_id and g.kind = 'no_reading'"
        " and g.started_at >= b.started_at and g.started_at < coalesce(b.ended_at, g.started_at)"
        f" where b.kind in {READING_KINDS!r}"
    ).fetchall()
    assert spanning == []


def connect(chain: Chain):
    return duckdb.connect(str(chain.duckdb_path), read_only=True)


def capture_readings(*names: str) -> tuple[list[tuple[int, datetime, float | None]], datetime]:
    """(plant, recorded at, moisture) of the captures' readings, and the newest fetch."""
    rows, clock = [], None
    for name in names:
        for answers in polls(name):
            for plant_id, status, body, fetched_at in answers:
                clock = max(clock or fetched_at, fetched_at)
                if status == 200:  # id 0 (plant 50's data) is kept like any plant
                    at = datetime.fromisoformat(body["recording_taken"])
                    rows.append((plant_id, at, body.get("soil_moisture")))
    return rows, clock.replace(tzinfo=None)


def test_real_captures_years_apart_are_separate_incidents(tmp_path: Path):
    env = chain_env(tmp_path)
    env["LNHM_PLANT_IDS"] = "0-52"
    chain = Chain(base=tmp_path, env=env, end=datetime(2025, 2, 4, 16, 0))
    kinds = ("moisture_low", "no_reading", "feed_down")

    chain.step("captures_2023_2024", "tests.captures", "2023-08-31", "2024-08-06-polls")
    chain.step("transform", "lnhm.transform", "build")
    readings, clock = capture_readings("2023-08-31", "2024-08-06-polls")
    first = expected(readings, clock)
    # known from the captures: plants 16 and 47 are dry in all 20 polls (19 answers each), and
    # still dry at the last one, so their incidents are open; the 2023 reading alone is not one
    assert {r for r in first if r[1] == "moisture_low"} == {
        (16, "moisture_low", datetime(2024, 8, 6, 11, 18, 30), None, 19),
        (47, "moisture_low", datetime(2024, 8, 6, 11, 18, 17), None, 19),
    }
    with connect(chain) as con:
        assert incidents(con, kinds) == first
        ids = dict(
            con.execute(
                "select plant_id, incident_id from marts.fct_incidents where kind = 'moisture_low'"
            ).fetchall()
        )

    chain.step("captures_2024_2025", "tests.captures", "2024-08-06", "2025-02-04")
    chain.step("transform_2", "lnhm.transform", "build")
    readings, clock = capture_readings("2023-08-31", "2024-08-06-polls", "2024-08-06", "2025-02-04")
    second = expected(readings, clock)
    # the data stopped at their last dry reading of the 20 polls (90 minutes until the next)
    assert {r for r in second if r[1] == "moisture_low"} == {
        (
            16,
            "moisture_low",
            datetime(2024, 8, 6, 11, 18, 30),
            datetime(2024, 8, 6, 11, 24, 15),
            19,
        ),
        (
            47,
            "moisture_low",
            datetime(2024, 8, 6, 11, 18, 17),
            datetime(2024, 8, 6, 11, 24, 21),
            19,
        ),
    }
    assert (
        16,
        "no_reading",
        datetime(2024, 8, 6, 12, 55, 20),
        datetime(2025, 2, 4, 15, 58, 28),
        0,
    ) in second
    with connect(chain) as con:
        assert incidents(con, kinds) == second
        no_breach_spans_a_gap(con)
        assert (
            dict(
                con.execute(
                    "select plant_id, incident_id from marts.fct_incidents"
                    " where kind = 'moisture_low'"
                ).fetchall()
            )
            == ids
        )
        # their readings stopped at the last dry one: no one saw them end (the mail says so);
        # the gaps themselves are the duration kind no_reading, never "ended by a gap"
        assert set(
            con.execute(
                "select plant_id, kind, is_ended_by_gap from marts.fct_incidents"
                " where kind = 'moisture_low' or (kind = 'no_reading' and not is_open)"
            ).fetchall()
        ) == {(16, "moisture_low", True), (47, "moisture_low", True)} | {
            (r[0], "no_reading", False) for r in second if r[1] == "no_reading" and r[3]
        }
        worst = con.execute(
            "select worst_value from marts.fct_incidents"
            " where plant_id = 16 and kind = 'moisture_low'"
        ).fetchone()[0]
        # the driest of the 20 polls (the capture's last answer of plant 16, 11:24:15)
        assert worst == pytest.approx(-10.879390875714293)
        table = con.execute("select * from marts.fct_incidents order by incident_id").fetchall()

    # the archive prunes 2023 and 2024: the incidents stay exactly as they were
    record = chain.step("archive", "archive", "--now=2025-02-04T16:00:00+00:00")
    assert record["counts"]["days"] == ["2023-08-31", "2024-08-06"]
    chain.step("transform_after_archive", "lnhm.transform", "build")
    with connect(chain) as con:
        assert (
            con.execute("select * from marts.fct_incidents order by incident_id").fetchall()
            == table
        )


def raw_readings(chain: Chain) -> tuple[list[tuple[int, datetime, float | None]], datetime]:
    """(plant, recorded at, moisture) of every raw reading, and the newest fetch."""
    with connect(chain) as con:
        rows = con.execute(
            "select plant_id, recording_taken, soil_moisture from raw.plant_readings"
        ).fetchall()
        clock = con.execute(
            "select max(f) from (select max(fetched_at) as f from raw.plant_readings"
            " union all select max(fetched_at) from raw.plant_fetch_failures)"
        ).fetchone()[0]
    readings = [(int(p), datetime.fromisoformat(t), m) for p, t, m in rows if t]
    return readings, clock.replace(tzinfo=None)


def test_a_breach_after_a_long_gap_is_a_new_incident(tmp_path: Path):
    first_end = datetime(2026, 11, 28, 12, 30)  # plant 16 is below 5 % from about 08:20
    second_end = first_end + timedelta(days=2)
    chain = build_chain(tmp_path, plants=17, hours=1, end=first_end, archive=False, reports=False)
    readings, clock = raw_readings(chain)
    first = expected(readings, clock)
    # plant 16 (threshold 5 %) is dry until its watering: one open incident over the hour
    [(_, _, started, ended, count)] = [r for r in first if r[:2] == (16, "moisture_low")]
    assert ended is None and count >= 50
    with connect(chain) as con:
        assert incidents(con, ("moisture_low", "no_reading", "feed_down")) == first
        [(open_id,)] = con.execute(
            "select incident_id from marts.fct_incidents"
            " where plant_id = 16 and kind = 'moisture_low' and is_open"
        ).fetchall()

    # nothing for two days, then an hour of polls: plant 16 is dry again
    chain.step(
        "backfill_2", "tests.chain", "--hours=1", f"--end={second_end.isoformat()}", "--plants=17"
    )
    chain.step("transform_2", "lnhm.transform", "build")
    readings, clock = raw_readings(chain)
    second = expected(readings, clock)
    gap_middle = first_end + timedelta(days=1)
    last_before_gap = max(at for p, at, _ in readings if p == 16 and at < gap_middle)
    first_after_gap = min(at for p, at, _ in readings if p == 16 and at > first_end)
    plant_16 = sorted(r for r in second if r[0] == 16)
    assert [r[1:4] for r in plant_16] == [
        ("moisture_low", started, last_before_gap),
        ("moisture_low", first_after_gap, None),
        ("no_reading", last_before_gap, first_after_gap),
    ]
    with connect(chain) as con:
        assert incidents(con, ("moisture_low", "no_reading", "feed_down")) == second
        no_breach_spans_a_gap(con)
        rows = con.execute(
            "select incident_id, started_at, ended_at, is_open, is_ended_by_gap"
            " from marts.fct_incidents"
            " where plant_id = 16 and kind = 'moisture_low' order by started_at"
        ).fetchall()
    assert [r[0] for r in rows][0] == open_id  # the closed incident kept its id
    assert rows[0][2:] == (last_before_gap, False, True)  # ended by the gap
    assert rows[1][0] != open_id and rows[1][2:] == (None, True, None)
