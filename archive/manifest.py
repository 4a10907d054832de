"""``manifest.json`` at the archive root: the only list of files readers may read.

Shape (contract): ``{"days": {"YYYY-MM-DD": {"label": "Thu 31 Aug 2023", "readings": n,
"readings_bytes": n, "readings_checksum": "...", "fetch_failures": n, "files": [...],
"archived_at": ...}}}`` plus a few extra keys (``fetch_failures_bytes``,
``fetch_failures_checksum``, ``run_id``). ``files`` are keys relative to the archive root,
``readings/day=.../*.parquet`` and ``fetch_failures/day=.../*.parquet``.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

KEY = "manifest.json"
VERSION = 1
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

CHECKSUM_NOTE = (
    "checksum = sum over rows of md5_number_lower(concat_ws('|', key columns)) as a decimal "
    "string; readings key: plant_id, recording_taken; fetch_failures key: run_id, plant_id"
)


def label(day: date) -> str:
    """``Thu 31 Aug 2023`` (English, whatever the locale)."""
    return f"{_DAYS[day.weekday()]} {day.day:02d} {_MONTHS[day.month - 1]} {day.year}"


def empty() -> dict:
    return {"version": VERSION, "checksum": CHECKSUM_NOTE, "updated_at": None, "days": {}}


def load(store) -> dict:
    data = store.read_bytes(KEY)
    if data is None:
        return empty()
    manifest = json.loads(data)
    manifest.setdefault("days", {})
    return manifest


def save(store, manifest: dict) -> None:
    manifest["updated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    manifest["days"] = dict(sorted(manifest["days"].items()))
    store.write_bytes(KEY, (json.dumps(manifest, indent=2) + "\n").encode())


def listed_files(manifest: dict) -> set[str]:
    return {key for entry in manifest["days"].values() for key in entry.get("files", [])}
