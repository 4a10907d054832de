"""Archived days on the site: downloads (CSV and Parquet) and a minute page per plant and day.

For every day of the archive's manifest the site offers the day's readings as they are in its
Parquet files, as ``downloads/readings-<day>.csv`` and ``.parquet`` (times as UTC instants:
ISO 8601 ``...Z`` text in the CSV, timestamps with time zone in the Parquet), and one page per
plant with readings that day, ``plants/<id>/<day>.html``: every reading of the day (a chart and
a table of the minutes), as archived. No figure is computed here: the rows are copied and put
in order (queries/archive_day.sql); the day's summary on the page is the mart's row.

Cost grows with new days only. An archived day never changes (a day is archived once; a
repair or a re-archive gives it a new run id or checksum), so each build hard-links the files
it wrote for a day in the live build before (``downloads/index.json`` says which files belong
to which day and with which key) and reads the archive only for days it has not seen, or whose
key changed: the manifest's run id and checksum of the day and a digest of the code and
templates that write the files (a new release writes every day once more).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

import duckdb
from markupsafe import Markup

from lnhm import duck
from lnhm.timefmt import as_utc, format_local
from reports import svg

HERE = Path(__file__).parent
INDEX = "downloads/index.json"
# what writes an archived day's files: a change to any of them writes every day again once
SOURCES = (
    HERE / "archived.py",
    HERE / "svg.py",
    HERE / "queries" / "archive_day.sql",
    HERE / "templates" / "frozen_base.html",
    HERE / "templates" / "archived_day.html",
    HERE / "templates" / "_macros.html",
    HERE / "static" / "style.css",
)
CSV_TIMES = "%Y-%m-%dT%H:%M:%SZ"  # UTC, ISO 8601
# Days written from the archive per build, newest first: a day of 50 plants takes seconds, so
# a first build over a year of archive (or after a release) would take an hour; instead each
# build (every 5 minutes) adds this many days and links the rest, until every day is there.
NEW_DAYS_PER_BUILD = 3


def code_digest() -> str:
    digest = hashlib.sha256()
    for path in SOURCES:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def reading_files(entry: dict) -> list[str]:
    return [f for f in entry["files"] if f.startswith("readings/")]


def day_key(entry: dict, digest: str) -> str:
    return f"{entry.get('run_id') or ''}|{entry.get('readings_checksum') or ''}|{digest}"


def previous_index(out: Path) -> tuple[Path | None, dict]:
    """The live build before this one and its downloads/index.json (none: nothing to reuse)."""
    live = out / "current"
    with contextlib.suppress(OSError, ValueError):
        site = live.resolve(strict=True)
        return site, json.loads((site / INDEX).read_text(encoding="utf-8"))
    return None, {}


def _link(old: Path, new: Path) -> None:
    new.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(old, new)  # same folder tree: no bytes rewritten
    except OSError:
        shutil.copy2(old, new)  # a file system without hard links: a copy is still right


def reuse(previous: Path | None, entry: dict | None, key: str, tmp: Path) -> bool:
    """Link a day's files from the build before into this one, if they are the same version."""
    if previous is None or entry is None or entry.get("key") != key:
        return False
    linked = []
    try:
        for rel in entry["files"]:
            _link(previous / rel, tmp / rel)
            linked.append(rel)
    except FileNotFoundError:  # the build before was being tidied away: write the day again
        for rel in linked:
            (tmp / rel).unlink(missing_ok=True)
        return False
    return True


def minute_chart(name: str, rows: list[dict], day, tz) -> str:
    """Every reading of one plant and UTC day: the values that count in statistics as a line,
    flagged ones as crosses at the panel's edge when off the scale (as on the 24-hour chart)."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    end = start + timedelta(days=1)
    panels = []
    for field, title, bad in (
        ("soil_moisture_pct", "Soil moisture (%)", "is_moisture_out_of_range"),
        ("temperature_c", "Temperature (°C)", "is_temperature_implausible"),
    ):
        panel = svg.Panel(title)
        good = [r for r in rows if r["recorded_at_utc"] is not None]
        panel.line = [
            (r["recorded_at_utc"], r[field])
            for r in good
            if r[field] is not None and not r["is_duplicate"] and not r[bad]
        ]
        values = panel.values() or [0.0]
        lo, hi = min(values), max(values)
        panel.markers = [
            (r["recorded_at_utc"], min(max(r[field], lo), hi))
            for r in good
            if r[field] is not None and r[bad]
        ]
        panels.append(panel)
    label = f"Every reading of {name} on {day:%a %d %b %Y} (UTC day)"
    return svg.chart(panels, start, end, label, max_gap_s=15 * 60, tz=tz)


def _num(value) -> str:
    return "—" if value is None else f"{value:,.1f}"  # as build.py's num filter


def table_rows(rows: list[dict], tz) -> Markup:
    """The minute table's rows as markup, formatted here in one pass: a day has ~1,440 rows a
    plant, and a template's filters and escapes per cell took most of the page's time. Every
    time is a <time> with its UTC instant (datetime, data-utc), shown on the museum's clock."""
    times: dict = {}

    def cell(value, style: str) -> str:
        if value is None:
            return "—"
        key = (value, style)
        if key not in times:
            utc = as_utc(value).strftime(CSV_TIMES)
            text = format_local(value, tz, style)
            times[key] = f'<time datetime="{utc}" data-utc="{utc}">{text}</time>'
        return times[key]

    out = []
    for row in rows:
        at = row["recorded_at_utc"]
        recorded = cell(at, "clock") if at else escape(row["recording_taken"] or "—")
        out.append(
            f"<tr><td>{recorded}</td><td>{_num(row['soil_moisture_pct'])}</td>"
            f"<td>{_num(row['temperature_c'])}</td>"
            f"<td>{cell(row['last_watered_at_utc'], 'day_month')}</td>"
            f"<td>{row['flags']}</td></tr>"
        )
    return Markup("\n".join(out))


def flags(row: dict) -> str:
    names = {
        "is_moisture_out_of_range": "moisture out of range",
        "is_temperature_implausible": "implausible temperature",
        "is_duplicate": "duplicate",
        "is_future": "in the future",
        "is_stale": "stale",
        "has_missing_fields": "missing fields",
    }
    return ", ".join(label for column, label in names.items() if row[column])


def write_days(settings, archive_days, previous, old_index, tmp, page, say) -> dict:
    """Downloads and minute pages of every archived day, reusing the build before's files.

    ``page(rel, plant_id, day, rows, downloads)`` writes one plant's minute page of a day.
    Returns per day its files and plants (also written to downloads/index.json) and how many
    days were new.
    """
    digest = code_digest()
    index, new = {}, []
    for entry in sorted(archive_days, key=lambda d: d["day"]):
        day = entry["day"].isoformat()
        if not reading_files(entry):
            continue
        key = day_key(entry, digest)
        if reuse(previous, old_index.get(day), key, tmp):
            index[day] = old_index[day]
        else:
            new.append((entry, key))
    failed: list[str] = []
    new.sort(key=lambda item: item[0]["day"], reverse=True)
    new, later = new[:NEW_DAYS_PER_BUILD], new[NEW_DAYS_PER_BUILD:]
    if new:
        root = settings.archive_url.rstrip("/") if settings.archive_is_s3 else None
        con = duck.connect(settings, hot=None, archive=True)
        con.execute("set enable_progress_bar = false")
        try:
            for entry, key in new:
                day = entry["day"].isoformat()
                try:
                    index[day] = _write_day(con, settings, root, entry, key, tmp, page)
                except duckdb.Error as exc:
                    # One unreadable day (a file missing or damaged) must not take the whole
                    # site down: the day goes without downloads and minute pages this build,
                    # and the next build tries it again (it is not in the index).
                    failed.append(day)
                    say(f"archived day {day}: cannot read its files ({str(exc).splitlines()[0]})")
                    for rel in (
                        f"downloads/readings-{day}.csv",
                        f"downloads/readings-{day}.parquet",
                    ):
                        (tmp / rel).unlink(missing_ok=True)
        finally:
            con.close()
    (tmp / INDEX).parent.mkdir(parents=True, exist_ok=True)
    (tmp / INDEX).write_text(json.dumps(index, indent=1, sort_keys=True), encoding="utf-8")
    written = len(new) - len(failed)
    say(
        f"archived days: {written} new written from the archive, "
        f"{len(index) - written} linked from the build before, "
        f"{len(later)} waiting for a later build"
        + (f", {len(failed)} unreadable (tried again next build)" if failed else "")
    )
    return {
        "days": index,
        "new_days": written,
        "waiting_days": len(later),
        "unreadable_days": len(failed),
    }


def _write_day(con, settings, root, entry, key, tmp, page) -> dict:
    day = entry["day"]
    base = root or str(Path(settings.archive_url).expanduser().resolve())
    files = [f"{base}/{f}" for f in reading_files(entry)]
    con.execute("set variable day_files = ?", [files])
    con.execute((HERE / "queries" / "archive_day.sql").read_text(encoding="utf-8"))
    csv_rel = f"downloads/readings-{day.isoformat()}.csv"
    parquet_rel = f"downloads/readings-{day.isoformat()}.parquet"
    (tmp / "downloads").mkdir(parents=True, exist_ok=True)
    con.execute(
        f"copy archive_day to {_sql_literal(str(tmp / csv_rel))} "
        f"(format csv, header, timestampformat {_sql_literal(CSV_TIMES)})"
    )
    con.execute(
        f"copy archive_day to {_sql_literal(str(tmp / parquet_rel))} "
        "(format parquet, compression zstd)"
    )
    cursor = con.execute("select * from archive_day")
    columns = [d[0] for d in cursor.description]
    per_plant: dict[int, list[dict]] = defaultdict(list)
    for values in cursor.fetchall():
        row = dict(zip(columns, values, strict=True))
        row["flags"] = flags(row)
        per_plant[row["plant_id"]].append(row)
    pages = []
    for pid, rows in per_plant.items():
        rel = f"plants/{pid}/{day.isoformat()}.html"
        page(rel, pid, day, rows, {"csv": csv_rel, "parquet": parquet_rel})
        pages.append(rel)
    return {
        "key": key,
        "plants": sorted(per_plant),
        "csv": csv_rel,
        "parquet": parquet_rel,
        "files": [csv_rel, parquet_rel, *pages],
    }
