"""What one request to the plants API came to: a reading, or a failure with its reason.

Kept free of pyarrow and dlt, so that a poll starts asking the API at once; `ingest.rows`
turns outcomes into the raw tables' rows.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

ERROR_KINDS = (
    "not_found",
    "on_loan",
    "sensor_fault",
    "server_error",
    "timeout",
    "connection_error",
    "invalid_body",
)


@dataclass(frozen=True)
class Outcome:
    """What happened to one plant id in one poll: a reading or a failure."""

    plant_id: int
    kind: str  # "reading" or one of ERROR_KINDS
    http_status: int | None
    body: str | None
    message: str | None
    attempts: int
    fetched_at: datetime
    parsed: dict | None = None

    @property
    def is_reading(self) -> bool:
        return self.kind == "reading"

    @property
    def retryable(self) -> bool:
        """Worth asking again: anything but a definite answer (a reading or a 404)."""
        return self.kind not in ("reading", "not_found", "on_loan")


def _error_kind(status: int, message: str) -> str:
    text = message.lower()
    if "loan" in text:
        return "on_loan"
    if "not found" in text or status == 404:
        return "not_found"
    if "sensor" in text:
        return "sensor_fault"
    if status >= 500:
        return "server_error"
    return "invalid_body"


# JSON escapes that decode to text no database column takes: NUL, lone UTF-16 surrogates
_UNSTORABLE_ESCAPE = re.compile(r"\\u(?:0000|d[89a-f][0-9a-f]{2})", re.IGNORECASE)


def _storable(value):
    """`value` with NUL characters dropped and lone surrogates replaced, recursively."""
    if isinstance(value, str):
        return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [_storable(item) for item in value]
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    return value


def classify(
    plant_id: int, status: int, body: str, fetched_at: datetime, attempts: int = 1
) -> Outcome:
    """Classify one HTTP answer (status and body text) for `plant_id`."""
    if "\x00" in body:
        body = body.replace("\x00", "")
    try:
        parsed = json.loads(body)
        if _UNSTORABLE_ESCAPE.search(body):
            parsed = _storable(parsed)
    except (ValueError, RecursionError) as exc:
        start = body.lstrip()[:1]
        if status >= 500 and start not in ("<", "{", "["):  # e.g. a proxy's "Bad Gateway"
            message = f"HTTP {status}: {body.strip()[:200] or 'empty body'}"
            return Outcome(plant_id, "server_error", status, body, message, attempts, fetched_at)
        message = f"HTTP {status}: body is not JSON ({exc})"
        return Outcome(plant_id, "invalid_body", status, body, message, attempts, fetched_at)
    if not isinstance(parsed, dict):
        message = f"HTTP {status}: JSON body is a {type(parsed).__name__}, not an object"
        return Outcome(plant_id, "invalid_body", status, body, message, attempts, fetched_at)
    if "error" in parsed or status >= 400:
        message = parsed.get("error")
        message = message if isinstance(message, str) else f"HTTP {status}: {body[:200]}"
        kind = _error_kind(status, message)
        return Outcome(plant_id, kind, status, body, message, attempts, fetched_at)
    if "recording_taken" not in parsed or parsed["recording_taken"] in (None, ""):
        message = f"HTTP {status}: reading without recording_taken"
        return Outcome(plant_id, "invalid_body", status, body, message, attempts, fetched_at)
    if "plant_id" in parsed and answered_id(parsed["plant_id"]) != plant_id:
        # never file one plant's reading under another: it is a failed request for the id asked
        message = f"HTTP {status}: answered for plant_id {parsed['plant_id']!r}, not {plant_id}"
        return Outcome(plant_id, "invalid_body", status, body, message, attempts, fetched_at)
    return Outcome(plant_id, "reading", status, body, None, attempts, fetched_at, parsed)


def answered_id(value) -> int | None:
    """The plant id a body names, when it is an integer (or integer text)."""
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def failure(
    plant_id: int,
    kind: str,
    message: str,
    fetched_at: datetime,
    attempts: int,
    http_status: int | None = None,
    body: str | None = None,
) -> Outcome:
    """An outcome that has no usable HTTP answer (timeout, connection error, deadline)."""
    return Outcome(plant_id, kind, http_status, body, message, attempts, fetched_at)
