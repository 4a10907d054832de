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

from lnhm.joblog import JobFailed

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


REPAIR = "run `make archive-repair` to rebuild it from the Parquet files"


class ManifestError(JobFailed):
    """manifest.json exists but cannot be used; the message names it."""


def load(store) -> dict:
    """The manifest (an empty one if there is none); ``ManifestError`` if it is not one."""
    data = store.read_bytes(KEY)
    if data is None:
        return empty()
    where = store.duck_url(KEY)
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        raise ManifestError(
            f"{where} is not valid JSON (truncated or corrupt: {exc}); nothing deleted or "
            f"pruned: {REPAIR}"
        ) from None
    days = manifest.get("days", {}) if isinstance(manifest, dict) else None
    if not isinstance(days, dict) or not all(
        isinstance(e, dict) and isinstance(e.get("files", []), list) for e in days.values()
    ):
        raise ManifestError(
            f'{where} is not an archive manifest (no "days" object of entries with "files" '
            f"lists); nothing deleted or pruned: {REPAIR}"
        )
    manifest["days"] = days
    return manifest


def save(store, manifest: dict) -> None:
    manifest["updated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    manifest["days"] = dict(sorted(manifest["days"].items()))
    store.write_bytes(KEY, (json.dumps(manifest, indent=2) + "\n").encode())


def listed_files(manifest: dict) -> set[str]:
    return {key for entry in manifest["days"].values() for key in entry.get("files", [])}
