"""Unit tests of response -> row building (no HTTP, no database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.simulator.model import PlantsSimulator, SimulatorConfig
from ingest.answers import classify
from ingest.rows import Batch, api_body, new_run_id

SAMPLES = Path(__file__).parent / "fixtures" / "plants-api"
AT = datetime(2026, 11, 26, tzinfo=UTC)
KNOWN_KEYS = {
    "botanist", "images", "last_watered", "name", "origin_location", "plant_id",
    "recording_taken", "scientific_name", "soil_moisture", "temperature",
}  # fmt: skip

V1 = {
    "botanist": {
        "email": "carl.linnaeus@lnhm.co.uk",
        "name": "Carl Linnaeus",
        "phone": "(146)994-1635x35992",
    },
    "last_watered": "Tue, 04 Feb 2025 14:10:54 GMT",
    "name": "Corpse flower",
    "origin_location": ["7.65649", "4.92235", "Efon-Alaaye", "NG", "Africa/Lagos"],
    "plant_id": 2,
    "recording_taken": "2025-02-04 15:58:29",
    "soil_moisture": 94.1256116787989,
    "temperature": 9.247321482607692,
}


def _row(body: str, plant_id: int = 2) -> dict:
    batch = Batch()
    assert batch.add(classify(plant_id, 200, body, AT), "r1")
    readings, failures, _ = batch.tables()
    assert failures.num_rows == 0
    return readings.to_pylist()[0]


def test_v1_reading_keeps_values_as_sent_and_the_whole_body():
    body = json.dumps(V1)
    row = _row(body)
    assert row["plant_id"] == 2
    assert row["recording_taken"] == "2025-02-04 15:58:29"
    assert row["last_watered"] == "Tue, 04 Feb 2025 14:10:54 GMT"
    assert row["soil_moisture"] == pytest.approx(94.1256116787989)
    assert row["botanist__phone"] == "(146)994-1635x35992"
    assert json.loads(row["origin_location"]) == V1["origin_location"]
    assert row["scientific_name"] is None and row["images"] is None
    assert row["payload"] == body
    assert row["fetched_at"] == AT and row["run_id"] == "r1"


def test_v2_and_v3_shapes_and_unknown_fields_load():
    v2 = dict(
        V1,
        origin_location={"latitude": 7.65, "longitude": 4.92, "city": "Efon", "country": "Nigeria"},
        recording_taken="2025-02-04T15:58:29.000Z",
        cycle="Perennial",
        new_field=[1, 2],
    )
    row = _row(json.dumps(v2))
    assert json.loads(row["origin_location"])["country"] == "Nigeria"
    assert row["recording_taken"] == "2025-02-04T15:58:29.000Z"
    assert "new_field" in json.loads(row["payload"])
    v3 = dict(
        V1,
        soil_moisture="12.5",
        temperature=None,
        botanist="Dr. Who",
        recording_taken="2026-01-01T00:00:00.000000",
    )
    row = _row(json.dumps(v3))
    assert row["soil_moisture"] == 12.5 and row["temperature"] is None
    assert row["botanist__name"] is None


@pytest.mark.parametrize(
    "status, body, kind",
    [
        (404, '{"error": "plant not found", "plant_id": 7}', "not_found"),
        (404, '{"error": "plant on loan to another museum", "plant_id": 43}', "on_loan"),
        (500, '{"error": "plant sensor fault", "plant_id": 9}', "sensor_fault"),
        (503, '{"message": "Service Unavailable"}', "server_error"),
        (502, "Bad Gateway", "server_error"),
        (503, "<!DOCTYPE html><html></html>", "invalid_body"),
        (200, "<!DOCTYPE html><html></html>", "invalid_body"),
        (200, '{"botanist": {"email": "a@b', "invalid_body"),
        (200, "[1, 2]", "invalid_body"),
        (200, '{"plant_id": 3, "name": "no time"}', "invalid_body"),
        (404, "<!doctype html><title>404 Not Found</title>", "invalid_body"),
    ],
)
def test_failures_are_classified(status, body, kind):
    outcome = classify(9, status, body, AT, attempts=3)
    assert outcome.kind == kind
    batch = Batch()
    assert not batch.add(outcome, "r1")
    row = batch.tables()[1].to_pylist()[0]
    assert row["error_kind"] == kind and row["http_status"] == status
    assert row["attempts"] == 3 and row["body_excerpt"] == body[:500]
    assert row["error_message"]


def test_only_404_is_final_everything_else_is_retried():
    assert not classify(7, 404, '{"error": "plant not found"}', AT).retryable
    assert not classify(43, 404, '{"error": "plant on loan to another museum"}', AT).retryable
    assert classify(9, 500, '{"error": "plant sensor fault"}', AT).retryable
    assert classify(9, 200, "<html>", AT).retryable
    assert not classify(2, 200, json.dumps(V1), AT).retryable


def test_a_batch_keeps_one_row_per_reading_key():
    batch = Batch()
    for run in ("r1", "r2"):
        batch.add(classify(2, 200, json.dumps(V1), AT), run)
    readings = batch.tables()[0]
    assert readings.num_rows == 1 and readings.column("run_id").to_pylist() == ["r2"]


def test_real_captures_load_without_a_crash():
    batch = Batch()
    for path in sorted(SAMPLES.glob("*.json")):
        data = json.loads(path.read_text())
        items = data.values() if isinstance(data, dict) else data
        for item in items:
            body = json.dumps(item)
            status = 200 if "error" not in item else (500 if "sensor" in item["error"] else 404)
            batch.add(classify(item.get("plant_id", -1), status, body, AT), path.stem)
    readings, failures, _ = batch.tables()
    assert readings.num_rows > 100
    assert set(failures.column("error_kind").to_pylist()) <= {
        "not_found",
        "on_loan",
        "sensor_fault",
    }


def test_run_ids_sort_by_time():
    early = new_run_id(datetime(2026, 1, 1, tzinfo=UTC))
    late = new_run_id(datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC))
    assert early < late and len(early) == len("20260101T000000Z-abcdef")


def test_text_no_database_can_store_is_made_storable():
    body = json.dumps(dict(V1, name="bad\u0000name \ud800", plant_id=5)) + "\x00"
    row = _row(body, plant_id=5)
    assert row["name"] == "badname ?" and row["plant_id"] == 5
    assert "\x00" not in row["payload"]
    row = _row(json.dumps(dict(V1, plant_id="12", recording_taken=20260101)), plant_id=12)
    assert row["plant_id"] == 12 and row["recording_taken"] == "20260101"


@pytest.mark.parametrize("sent", [999, 2**70, "4x", None, "5"])
def test_a_body_for_another_plant_is_a_failure_of_the_plant_asked(sent):
    """/plants/4 answering plant_id 999 must not land as plant 999's reading."""
    outcome = classify(4, 200, json.dumps(dict(V1, plant_id=sent)), AT)
    assert outcome.plant_id == 4
    assert outcome.kind == "invalid_body" and outcome.retryable
    assert repr(sent) in outcome.message and "not 4" in outcome.message
    batch = Batch()
    assert not batch.add(outcome, "r1")
    assert batch.tables()[1].to_pylist()[0]["plant_id"] == 4


def test_a_body_naming_the_plant_asked_or_no_plant_is_its_reading():
    assert classify(4, 200, json.dumps(dict(V1, plant_id=4)), AT).is_reading
    assert classify(4, 200, json.dumps(dict(V1, plant_id="4")), AT).is_reading
    assert classify(0, 200, json.dumps(dict(V1, plant_id=0)), AT).is_reading  # id 0 echoes 0
    no_id = {k: v for k, v in V1.items() if k != "plant_id"}
    assert classify(4, 200, json.dumps(no_id), AT).is_reading


# ---- one copy of each reading: the body is rebuilt from the typed columns -------------------
def _flask(obj) -> str:
    """A body as Flask's jsonify writes it (what the real API and the simulator send)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n"


def _capture_readings() -> list[dict]:
    readings = []
    for path in sorted(SAMPLES.glob("*.json")):
        items = json.loads(path.read_text())
        items = list(items.values()) if isinstance(items, dict) else items
        readings += [item for item in items if "error" not in item]
    return readings


def test_every_captured_reading_is_stored_once_and_its_body_comes_back_exactly():
    readings = _capture_readings()
    assert len(readings) > 100
    for item in readings:
        body = _flask(item)
        row = _row(body, item["plant_id"])
        assert api_body(row) == body
        # what the 2023 captures add (cycle, sunlight) has no column: those bodies stay whole
        assert (row["payload"] is None) == (set(item) <= KNOWN_KEYS), sorted(item)


def test_simulated_v1_v2_v3_bodies_need_no_payload_and_come_back_exactly():
    at = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    for shape in ("v1", "v2", "v3"):
        model = PlantsSimulator(SimulatorConfig(plants=50, shape=shape, sensor_fault_rate=0))
        for plant_id in range(1, 51):
            response = model.respond(plant_id, at)
            if response.status != 200:
                continue
            row = _row(response.body, plant_id)
            assert api_body(row) == response.body
            assert row["payload"] is None, (shape, plant_id, response.body)


@pytest.mark.parametrize(
    "body",
    [
        json.dumps(V1, indent=2),  # other formatting
        _flask(V1).rstrip("\n"),  # no final newline
        json.dumps(V1, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
        _flask(dict(V1, name="Canna ‘Striata’")).replace("\\u2018", "‘"),  # unescaped
        _flask(dict(V1, cycle="Perennial", sunlight=["full sun"])),  # keys with no column
        _flask(dict(V1, soil_moisture="94.1")),  # a number sent as text
        _flask(dict(V1, temperature=9)),  # an integer
        _flask(dict(V1, name=None)),  # null text
        _flask(dict(V1, botanist={"email": "a@b.co", "extra": 1})),
        _flask(dict(V1, name="")),  # PostgreSQL's csv load would turn "" into NULL
    ],
)
def test_any_other_body_is_kept_whole(body):
    row = _row(body)
    assert row["payload"] == body
    assert api_body(row) == body


def test_canonical_bodies_with_keys_missing_need_no_payload():
    for missing in ("botanist", "last_watered", "soil_moisture", "origin_location"):
        body = _flask({k: v for k, v in V1.items() if k != missing})
        row = _row(body)
        assert row["payload"] is None
        assert api_body(row) == body


def test_a_null_and_an_absent_nested_value_are_told_apart():
    with_null = _flask(dict(V1, images=None, scientific_name=["Amorphophallus titanum"]))
    without = _flask(V1)
    rows = [_row(with_null), _row(without)]
    assert [r["images"] for r in rows] == ["null", None]
    assert [r["payload"] for r in rows] == [None, None]
    assert [api_body(r) for r in rows] == [with_null, without]
