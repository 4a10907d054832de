"""Turn plants API responses into rows of the raw tables (described in ingest/README.md).

A response becomes either one `plant_readings` row or one `plant_fetch_failures` row. Rows
are collected column-wise in a `Batch` and handed to dlt as pyarrow tables with explicit types,
so that nothing depends on how the API shapes its payload (v1, v2, v3 or a future one).

A reading is kept once, in typed columns. Its `payload` (the body as sent) is stored only when
the body is not exactly what `canonical_body` rebuilds from those columns (an unknown key, a
number sent as text, other formatting...): `api_body(row)` gives back the body, byte for byte,
either way. Most bodies are canonical, so the hot store spends a few bytes per reading on them
instead of the whole JSON text.
"""

from __future__ import annotations

import json
import math
import secrets
from datetime import UTC, datetime

import pyarrow as pa

from ingest.answers import Outcome

TS = pa.timestamp("us", tz="UTC")

READING_SCHEMA = pa.schema(
    [
        pa.field("plant_id", pa.int64(), nullable=False),
        pa.field("recording_taken", pa.string(), nullable=False),
        pa.field("last_watered", pa.string()),
        pa.field("name", pa.string()),
        pa.field("soil_moisture", pa.float64()),
        pa.field("temperature", pa.float64()),
        pa.field("botanist__name", pa.string()),
        pa.field("botanist__email", pa.string()),
        pa.field("botanist__phone", pa.string()),
        pa.field("origin_location", pa.string()),
        pa.field("scientific_name", pa.string()),
        pa.field("images", pa.string()),
        pa.field("payload", pa.string()),  # null: the body is canonical_body(row)
        pa.field("fetched_at", TS, nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
    ]
)

FAILURE_SCHEMA = pa.schema(
    [
        pa.field("plant_id", pa.int64(), nullable=False),
        pa.field("http_status", pa.int64()),
        pa.field("error_kind", pa.string(), nullable=False),
        pa.field("error_message", pa.string()),
        pa.field("body_excerpt", pa.string()),
        pa.field("attempts", pa.int64(), nullable=False),
        pa.field("fetched_at", TS, nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
    ]
)

RUN_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("started_at", TS, nullable=False),
        pa.field("finished_at", TS, nullable=False),
        pa.field("plants_polled", pa.int64(), nullable=False),
        pa.field("readings", pa.int64(), nullable=False),
        pa.field("failures", pa.int64(), nullable=False),
        pa.field("outcome", pa.string(), nullable=False),
    ]
)

EXCERPT_CHARS = 500
_JSON = json.JSONEncoder(ensure_ascii=False)
_ABSENT = object()
# keys whose value is kept as JSON text (a JSON null as the text "null", an absent key as NULL)
JSON_COLUMNS = ("origin_location", "scientific_name", "images")
TEXT_COLUMNS = ("last_watered", "name", "recording_taken")
BOTANIST_FIELDS = ("email", "name", "phone")
BOTANIST_COLUMNS = tuple(f"botanist__{field}" for field in BOTANIST_FIELDS)
NUMBER_COLUMNS = ("soil_moisture", "temperature")


def canonical_body(row: dict) -> str:
    """The body the API sends for the reading held in `row`'s typed columns: its keys sorted,
    compact separators, non-ASCII escaped, a final newline (Flask's ``jsonify``)."""
    body: dict = {"plant_id": row["plant_id"]}
    botanist = {
        field: row[f"botanist__{field}"]
        for field in BOTANIST_FIELDS
        if row[f"botanist__{field}"] is not None
    }
    if botanist:
        body["botanist"] = botanist
    for key in TEXT_COLUMNS + NUMBER_COLUMNS:
        if row[key] is not None:
            body[key] = row[key]
    for key in JSON_COLUMNS:
        if row[key] is not None:
            body[key] = json.loads(row[key])
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n"


def api_body(row: dict) -> str:
    """The body exactly as the API sent it, for a row of `raw.plant_readings` (or the archive)."""
    return row["payload"] if row["payload"] is not None else canonical_body(row)


def new_run_id(now: datetime | None = None, suffix: str | None = None) -> str:
    """A sortable run id: `YYYYMMDDTHHMMSSZ-xxxxxx` (UTC time, then 6 hex characters)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{suffix or secrets.token_hex(3)}"


def _text(value) -> str | None:
    """Text exactly as sent when it is a string, else its JSON text (None stays None)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return _JSON.encode(value)


def _json_text(value) -> str | None:
    """JSON text of a present value (a JSON null is "null"); None when the key was absent."""
    return None if value is _ABSENT else _JSON.encode(value)


def _number(value) -> float | None:
    """A finite float, or None when absent or not a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


class Batch:
    """Column-wise buffers for the three raw tables, deduplicated on each table's key."""

    def __init__(self) -> None:
        self.readings: dict[str, list] = {f.name: [] for f in READING_SCHEMA}
        self.failures: dict[str, list] = {f.name: [] for f in FAILURE_SCHEMA}
        self.runs: dict[str, list] = {f.name: [] for f in RUN_SCHEMA}
        self._reading_index: dict[tuple[int, str], int] = {}
        self._failure_index: dict[tuple[str, int], int] = {}

    @property
    def reading_count(self) -> int:
        return len(self.readings["plant_id"])

    @property
    def failure_count(self) -> int:
        return len(self.failures["plant_id"])

    def __len__(self) -> int:
        return self.reading_count + self.failure_count

    def add(self, outcome: Outcome, run_id: str) -> bool:
        """Add a reading or failure row; returns True for a reading."""
        if outcome.is_reading:
            self.add_reading(
                outcome.parsed, outcome.body, outcome.plant_id, outcome.fetched_at, run_id
            )
            return True
        self.add_failure(outcome, run_id)
        return False

    def add_reading(
        self, data: dict, body: str, asked_id: int, fetched_at: datetime, run_id: str
    ) -> None:
        """Add one reading from the parsed body `data` (any payload shape)."""
        plant_id = asked_id  # answers.classify refuses a body that names another plant
        recording_taken = _text(data.get("recording_taken"))
        botanist = data.get("botanist")
        if not isinstance(botanist, dict):
            botanist = {}
        values = (
            plant_id,
            recording_taken,
            _text(data.get("last_watered")),
            _text(data.get("name")),
            _number(data.get("soil_moisture")),
            _number(data.get("temperature")),
            _text(botanist.get("name")),
            _text(botanist.get("email")),
            _text(botanist.get("phone")),
            *(_json_text(data.get(key, _ABSENT)) for key in JSON_COLUMNS),
            body,
            fetched_at,
            run_id,
        )
        row = dict(zip(self.readings, values, strict=True))
        # PostgreSQL's csv COPY (dlt) loads an empty text as NULL, which the rebuild would omit
        has_empty_text = "" in (row[key] for key in TEXT_COLUMNS + BOTANIST_COLUMNS)
        if not has_empty_text and canonical_body(row) == body:
            row["payload"] = None
            values = tuple(row.values())
        key = (plant_id, recording_taken)
        index = self._reading_index.get(key)
        if index is None:
            self._reading_index[key] = len(self.readings["plant_id"])
            for column, value in zip(self.readings.values(), values, strict=True):
                column.append(value)
        else:  # the same reading twice in one batch: the later copy wins, as in a merge
            for column, value in zip(self.readings.values(), values, strict=True):
                column[index] = value

    def add_failure(self, outcome: Outcome, run_id: str) -> None:
        excerpt = outcome.body[:EXCERPT_CHARS] if outcome.body else None
        values = (
            outcome.plant_id,
            outcome.http_status,
            outcome.kind,
            outcome.message,
            excerpt,
            outcome.attempts,
            outcome.fetched_at,
            run_id,
        )
        key = (run_id, outcome.plant_id)
        index = self._failure_index.get(key)
        if index is None:
            self._failure_index[key] = len(self.failures["plant_id"])
            for column, value in zip(self.failures.values(), values, strict=True):
                column.append(value)
        else:
            for column, value in zip(self.failures.values(), values, strict=True):
                column[index] = value

    def add_run(
        self,
        run_id: str,
        started_at: datetime,
        finished_at: datetime,
        plants_polled: int,
        readings: int,
        failures: int,
        outcome: str = "ok",
    ) -> None:
        values = (run_id, started_at, finished_at, plants_polled, readings, failures, outcome)
        for column, value in zip(self.runs.values(), values, strict=True):
            column.append(value)

    def tables(self) -> tuple[pa.Table, pa.Table, pa.Table]:
        """(readings, failures, runs) as pyarrow tables with the contract's types."""
        return (
            pa.Table.from_pydict(self.readings, schema=READING_SCHEMA),
            pa.Table.from_pydict(self.failures, schema=FAILURE_SCHEMA),
            pa.Table.from_pydict(self.runs, schema=RUN_SCHEMA),
        )
