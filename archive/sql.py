"""SQL fragments the archive job runs in DuckDB (the same text for both hot stores)."""

from __future__ import annotations

from datetime import date, datetime

READINGS = ("raw", "plant_readings")
FAILURES = ("raw", "plant_fetch_failures")
FCT_READINGS = ("marts", "fct_readings")
DAILY_SUMMARY = ("marts", "plant_daily_summary")

READING_KEY = ("plant_id", "recording_taken")
FAILURE_KEY = ("run_id", "plant_id")

# fct_readings columns carried into the archive, with their type when the mart is missing.
CLEANED_COLUMNS = {
    "reading_id": "varchar",
    "recorded_at": "timestamp",
    "soil_moisture_pct": "double",
    "temperature_c": "double",
    "last_watered_at": "timestamp",
    "is_moisture_out_of_range": "boolean",
    "is_temperature_implausible": "boolean",
    "is_duplicate": "boolean",
    "is_future": "boolean",
    "is_stale": "boolean",
    "has_missing_fields": "boolean",
    "is_flagged": "boolean",
}

PARQUET = "format parquet, compression zstd, compression_level 3, row_group_size 122880"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table(ref: tuple[str, str]) -> str:
    return f"hot.{ident(ref[0])}.{ident(ref[1])}"


def literal(value) -> str:
    if isinstance(value, datetime):
        return f"timestamptz '{value.isoformat()}'"
    if isinstance(value, date):
        return f"date '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def files(urls: list[str]) -> str:
    """``read_parquet`` over exactly these files (no Hive guessing: the path is not data)."""
    body = ", ".join(literal(url) for url in urls)
    return f"read_parquet([{body}], union_by_name = true, hive_partitioning = false)"


def parse_time(expr: str) -> str:
    """Every format the API has sent for a time, as a naive UTC timestamp (null if none fits).

    ``YYYY-MM-DD HH:MM:SS`` (v1, UTC), ISO 8601 with ``Z``/offset/fractions (v2) or without zone
    (v3, UTC) go through the cast (the session time zone is UTC); RFC 1123 through strptime.
    """
    return (
        f"coalesce(try_cast(try_cast({expr} as timestamptz) as timestamp), "
        f"try_strptime({expr}, '%a, %d %b %Y %H:%M:%S GMT'))"
    )


def reading_day(alias: str = "") -> str:
    """The UTC day a raw reading belongs to: its recording time, else when it was fetched."""
    p = f"{alias}." if alias else ""
    return (
        f"cast(coalesce({parse_time(p + 'recording_taken')}, "
        f"cast({p}fetched_at as timestamp)) as date)"
    )


def failure_day(alias: str = "") -> str:
    p = f"{alias}." if alias else ""
    return f"cast(cast({p}fetched_at as timestamp) as date)"


def fetched_by(snapshot: datetime, alias: str = "") -> str:
    """Only rows fetched before the run started: late writers cannot change what we verify."""
    p = f"{alias}." if alias else ""
    return f"coalesce({p}fetched_at, {literal(snapshot)}) <= {literal(snapshot)}"


def checksum(key: tuple[str, ...], alias: str = "") -> str:
    """Sum of md5_number_lower over the key columns: stable across DuckDB versions and engines."""
    p = f"{alias}." if alias else ""
    cols = ", ".join(f"{p}{ident(c)}" for c in key)
    return f"coalesce(sum(md5_number_lower(concat_ws('|', {cols}))), 0)::varchar"
