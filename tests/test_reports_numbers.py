"""Every number on a plant page, the overview, the archive page and the data-quality page against
an independent computation from the raw rows (hot store `raw.*`) and the archive's Parquet files.

The warehouse is the real chain (tests/chain.py) with archived days. The expectations are
computed here in plain Python from the API's fields as ingest stored them (`recording_taken`,
`soil_moisture`, `temperature`, `last_watered`, `name`, `fetched_at`, `error_kind`), with the
rules written out again from the documentation (models/README.md), not from the marts or
the reports' code. DuckDB only reads the files. The pages are parsed as HTML; every element
with a `data-metric` is compared, and a metric the test does not know fails it.

What is not recomputed here: incident rules and statuses (the dbt tests of anomalies and
plant_status own them); for those the pages are checked to agree with themselves.
"""

from __future__ import annotations

import csv
import math
import os
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]
SHOWN = 0.05 + 1e-9  # one decimal place on the page
MOISTURE = (0.0, 100.0)
TEMPERATURE = (-10.0, 50.0)  # vars temperature_plausible_min_c / max_c
FUTURE_MIN, STALE_MIN = 5, 10  # vars future_tolerance_minutes / stale_after_minutes
TREND_MIN = 60  # var moisture_trend_window_minutes
DRYING_MIN, DRYING_READINGS = 90, 10  # vars drying_fit_window_minutes / drying_fit_min_readings
MISSING_MIN = 10  # var missing_after_minutes: a longer gap between readings is no data
# failed requests that are expected answers, not faults (issue 11: "on loan, not found")
EXPECTED_FAILURES = {"on_loan", "not_found"}
VOID = {"img", "meta", "link", "br", "input", "hr", "source", "wbr"}


# --- the pages -------------------------------------------------------------------------------


@dataclass
class Metric:
    name: str
    text: str
    day: str | None  # the data-day of the row it is in
    plant: str | None  # the data-plant-id of the row it is in


class Metrics(HTMLParser):
    """Every element with a data-metric: its text and the row (data-day / data-plant-id) around."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[dict] = []
        self.found: list[Metric] = []

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        self.stack.append({"tag": tag, "attrs": dict(attrs), "text": []})

    def handle_endtag(self, tag):
        while self.stack:
            node = self.stack.pop()
            if "data-metric" in node["attrs"]:
                around = [n["attrs"] for n in self.stack]
                self.found.append(
                    Metric(
                        node["attrs"]["data-metric"],
                        " ".join("".join(node["text"]).split()),
                        next((a["data-day"] for a in reversed(around) if "data-day" in a), None),
                        next(
                            (a["data-plant-id"] for a in reversed(around) if "data-plant-id" in a),
                            None,
                        ),
                    )
                )
            if node["tag"] == tag:
                break

    def handle_data(self, data):
        for node in self.stack:
            node["text"].append(data)


# every page's freshness line: its age depends on the page's own clock, so test_reports.py
# checks it (against the newest recording time in raw and the page's generation time)
FRESHNESS_METRICS = {"page-stale", "newest-reading-age"}


def metrics(path: Path) -> list[Metric]:
    parser = Metrics()
    parser.feed(path.read_text(encoding="utf-8"))
    return [m for m in parser.found if m.name not in FRESHNESS_METRICS]


def num(text: str) -> float:
    match = re.search(r"-?[\d,]+(\.\d+)?", text)
    assert match, text
    return float(match.group(0).replace(",", ""))


def nums(text: str) -> list[float]:
    return [float(m.replace(",", "")) for m in re.findall(r"-?\d[\d,]*(?:\.\d+)?", text)]


def hours_shown(text: str) -> tuple[float, float]:
    """The page says '42 min' or '3.5 h': the value in hours and how close it must be."""
    if text.endswith("min"):
        return num(text) / 60, 0.5 / 60 + 1e-9
    return num(text), SHOWN


# The site prints the museum's wall clock (LNHM_TIMEZONE, default Europe/London). The chain's
# readings are from late November and early December, when London keeps GMT (UTC+0, BST ends on
# the last Sunday of October): the wall clock reads as UTC, abbreviated GMT.
# tests/test_reports_timezone.py covers summer (BST) and other zones.
def _in_gmt(value: datetime) -> datetime:
    assert value.month in (11, 12, 1, 2), f"{value}: not a GMT month, expected texts need BST"
    return value


def when(value: datetime | date) -> str:
    if isinstance(value, datetime):
        return _in_gmt(value).strftime("%a %d %b %Y %H:%M GMT")
    return value.strftime("%a %d %b %Y")


def when_day(value: datetime) -> str:
    return _in_gmt(value).strftime("%a %H:%M GMT")


def si_bytes(text: str) -> tuple[float, float]:
    """'585.4 kB' -> (585400, 50): bytes and the rounding the page may have done (SI units)."""
    value, unit = text.split()
    scale = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}[unit]
    return float(value.replace(",", "")) * scale, (0.5 if unit == "B" else 0.05) * scale


# --- the independent computation -------------------------------------------------------------


@dataclass
class Reading:
    plant_id: int
    recorded_at: datetime | None
    moisture: float | None
    temperature: float | None
    last_watered: datetime | None
    name: str | None
    fetched_at: datetime
    tier: str
    duplicate: bool = False

    @property
    def moisture_bad(self) -> bool:
        return self.moisture is not None and not MOISTURE[0] <= self.moisture <= MOISTURE[1]

    @property
    def temperature_bad(self) -> bool:
        t = self.temperature
        return t is not None and not TEMPERATURE[0] <= t <= TEMPERATURE[1]

    @property
    def reasons(self) -> dict[str, bool]:
        r = self.recorded_at
        return {
            "flagged_moisture_out_of_range": self.moisture_bad,
            "flagged_temperature_implausible": self.temperature_bad,
            "flagged_duplicate": self.duplicate,
            "flagged_future": r is not None and r > self.fetched_at + timedelta(minutes=FUTURE_MIN),
            "flagged_stale": r is not None and r < self.fetched_at - timedelta(minutes=STALE_MIN),
            "flagged_missing_fields": r is None
            or None in (self.moisture, self.temperature, self.name, self.last_watered),
        }

    @property
    def flagged(self) -> bool:
        return any(self.reasons.values())

    def flagged_for(self, measure: str) -> bool:
        """Flagged for a reason about this measure (its own range) or the whole reading: the
        24-hour table's row of that measure counts it (the other measure's range is not)."""
        other = {
            "moisture": "flagged_temperature_implausible",
            "temperature": "flagged_moisture_out_of_range",
        }[measure]
        return any(on for reason, on in self.reasons.items() if reason != other)

    @property
    def stat_moisture(self) -> float | None:
        """The moisture that counts in statistics (not a duplicate, within 0-100)."""
        return None if self.duplicate or self.moisture_bad else self.moisture

    @property
    def stat_temperature(self) -> float | None:
        return None if self.duplicate or self.temperature_bad else self.temperature


def parse_recorded(text: str | None) -> datetime | None:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(text or "", fmt)
        except ValueError:
            continue
    return None


def parse_watered(text: str | None) -> datetime | None:
    try:
        return datetime.strptime(text or "", "%a, %d %b %Y %H:%M:%S GMT")
    except ValueError:
        return parse_recorded(text)


def naive(value: datetime) -> datetime:
    return (
        value.replace(tzinfo=None)
        if value.tzinfo is None
        else value.astimezone(None).replace(tzinfo=None)
    )


class Truth:
    """Figures from raw rows and Parquet files, computed with the documented rules."""

    def __init__(self, chain):
        manifest = chain.manifest()
        self.manifest = manifest
        con = duckdb.connect()
        con.execute("set timezone = 'UTC'")
        con.execute(f"attach '{chain.duckdb_path}' as h (read_only)")
        fields = (
            "plant_id, recording_taken, soil_moisture, temperature, last_watered, name, fetched_at"
        )
        hot = con.execute(f"select {fields} from h.raw.plant_readings").fetchall()
        files = self.archive_files(chain, "readings")
        archived = (
            con.execute(f"select {fields} from read_parquet({files!r})").fetchall() if files else []
        )
        fails_hot = con.execute(
            "select plant_id, error_kind, fetched_at from h.raw.plant_fetch_failures"
        ).fetchall()
        ffiles = self.archive_files(chain, "fetch_failures")
        fails_arch = (
            con.execute(
                f"select plant_id, error_kind, fetched_at from read_parquet({ffiles!r})"
            ).fetchall()
            if ffiles
            else []
        )
        con.close()
        # nothing in two tiers: (plant, recording as sent) is a reading's key
        assert not {(r[0], r[1]) for r in hot} & {(r[0], r[1]) for r in archived}
        self.hot_count = len(hot)
        self.archived_count = len(archived)
        self.readings = [
            Reading(
                r[0],
                parse_recorded(r[1]),
                r[2],
                r[3],
                parse_watered(r[4]),
                r[5],
                naive(r[6]),
                tier,
            )
            for rows, tier in ((hot, "hot"), (archived, "archive"))
            for r in rows
        ]
        self.failures = [(p, kind, naive(at)) for p, kind, at in fails_hot + fails_arch]
        # a duplicate: a later-fetched row of the same plant and recording time
        seen: dict[tuple[int, datetime], Reading] = {}
        for r in sorted(self.readings, key=lambda r: r.fetched_at):
            if r.recorded_at is None:
                continue
            key = (r.plant_id, r.recorded_at)
            r.duplicate = key in seen
            seen.setdefault(key, r)
        # "now": the newest fetch the hot store has (reading or failure)
        self.as_of = max(
            [r.fetched_at for r in self.readings if r.tier == "hot"]
            + [naive(at) for _, _, at in fails_hot]
        )
        self.by_plant: dict[int, list[Reading]] = defaultdict(list)
        for r in self.readings:
            self.by_plant[r.plant_id].append(r)

    @staticmethod
    def archive_files(chain, kind: str) -> list[str]:
        return [
            str(chain.archive / f)
            for day in chain.manifest()["days"].values()
            for f in day["files"]
            if f.startswith(kind + "/")
        ]

    def plant_ids(self) -> set[int]:
        on_loan = {p for p, kind, _ in self.failures if kind == "on_loan"}
        return {r.plant_id for r in self.readings} | on_loan

    def latest(self, pid: int) -> Reading:
        rows = [r for r in self.by_plant[pid] if r.recorded_at and not r.duplicate]
        return max(rows, key=lambda r: (r.recorded_at, r.fetched_at))

    def window(self, pid: int, hours: float) -> list[Reading]:
        start = self.as_of - timedelta(hours=hours)
        return [
            r for r in self.by_plant[pid] if r.recorded_at and start < r.recorded_at <= self.as_of
        ]

    def trend(self, pid: int) -> float | None:
        """Theil-Sen (median of pairwise slopes, %/h) of the moisture as reported (below 0
        included) of the last TREND_MIN minutes since the latest watering; None without a pair
        of readings at different times."""
        latest = self.latest(pid)
        start = self.as_of - timedelta(minutes=TREND_MIN)
        points = [
            (r.recorded_at.timestamp(), r.moisture)
            for r in self.by_plant[pid]
            if r.recorded_at
            and not r.duplicate
            and r.recorded_at >= start
            and (latest.last_watered is None or r.recorded_at >= latest.last_watered)
            and r.moisture is not None
        ]
        slopes = [(y2 - y1) / (x2 - x1) * 3600 for x1, y1 in points for x2, y2 in points if x2 > x1]
        return statistics.median(slopes) if slopes else None

    def dry_expected(self, pid: int) -> datetime | None:
        """The drying forecast as models/README.md defines it: a Theil-Sen line (median of the
        pairwise slopes, median level) through the valid moisture readings of the last
        DRYING_MIN minutes since the latest watering, crossing the plant's low threshold."""
        latest = self.latest(pid)
        start = self.as_of - timedelta(minutes=DRYING_MIN)
        points = [
            ((r.recorded_at - self.as_of).total_seconds(), r.moisture)
            for r in self.by_plant[pid]
            if r.recorded_at
            and not r.duplicate
            and start <= r.recorded_at <= self.as_of
            and (latest.last_watered is None or r.recorded_at >= latest.last_watered)
            and r.moisture is not None
            and not r.moisture_bad
        ]
        if len(points) < DRYING_READINGS:
            return None
        slope = statistics.median(
            (y2 - y1) / (x2 - x1) for x1, y1 in points for x2, y2 in points if x2 > x1
        )
        level = statistics.median(y - slope * x for x, y in points)
        low = moisture_threshold(pid)
        if slope >= 0 or level <= low:
            return None
        return self.as_of + timedelta(seconds=(low - level) / slope)

    def waterings(self, pid: int) -> set[datetime]:
        """Each distinct last_watered a plant reported (one not after its fetch + tolerance)."""
        return {
            r.last_watered
            for r in self.by_plant[pid]
            if r.last_watered and r.last_watered <= r.fetched_at + timedelta(minutes=FUTURE_MIN)
        }

    def hours_dry(self, pid: int) -> dict[date, float]:
        """Per UTC day, hours between consecutive reported moisture values (non-duplicates,
        below 0 included) that are both below the plant's low threshold and at most
        MISSING_MIN apart, split at midnight (models/README.md)."""
        low = moisture_threshold(pid)
        series = sorted(
            (r.recorded_at, r.moisture)
            for r in self.by_plant[pid]
            if r.recorded_at and not r.duplicate and r.moisture is not None
        )
        out: dict[date, float] = defaultdict(float)
        for (t0, m0), (t1, m1) in zip(series, series[1:], strict=False):
            if m0 < low and m1 < low and t1 - t0 <= timedelta(minutes=MISSING_MIN):
                midnight = datetime.combine(t1.date(), datetime.min.time())
                start = max(t0, midnight)
                out[t1.date()] += (t1 - start).total_seconds() / 3600
                if t0 < midnight:
                    out[t0.date()] += (midnight - t0).total_seconds() / 3600
        return out

    def days(self, pid: int) -> dict[date, list[Reading]]:
        out: dict[date, list[Reading]] = defaultdict(list)
        for r in self.by_plant[pid]:
            if r.recorded_at:
                out[r.recorded_at.date()].append(r)
        return out


def moisture_threshold(pid: int) -> float:
    """The plant's low soil moisture threshold from the seed (the default row otherwise)."""
    rows = list(csv.DictReader((REPO / "seeds" / "care_thresholds.csv").open()))
    own = {r["plant_id"]: float(r["soil_moisture_pct_min"]) for r in rows}
    return own.get(str(pid), own[""])


def forecast_shown(check: Checker, where: str, text: str, expected: datetime | None, fmt) -> None:
    """The page shows the forecast to the minute: it may differ from ours by that rounding."""
    if expected is None:
        check.eq(where, text, "—")
    else:
        near = {fmt(expected + timedelta(seconds=s)) for s in (-60, 0, 60)}
        check.eq(where, text in near, True)


def stats(values: list[float | None]) -> tuple[float, float, float] | None:
    kept = [v for v in values if v is not None]
    if not kept:
        return None
    return min(kept), sum(kept) / len(kept), max(kept)


def temperature_spikes(readings: list[Reading]) -> set[int]:
    """id() of the readings that are temperature spikes, by the rule models/README.md states
    (written here on its own): fewer than half of the plant's other readings with a temperature
    counting in statistics recorded within 15 minutes either side (at least 4 of them) are
    within 0.5 C of it."""
    series = sorted(
        (r for r in readings if r.recorded_at and r.stat_temperature is not None),
        key=lambda r: r.recorded_at,
    )
    spikes = set()
    for i, r in enumerate(series):
        others = []
        for step in (-1, 1):
            j = i + step
            while 0 <= j < len(series) and abs(series[j].recorded_at - r.recorded_at) <= timedelta(
                minutes=15
            ):
                others.append(series[j].stat_temperature)
                j += step
        agreeing = sum(abs(v - r.stat_temperature) <= 0.5 for v in others)
        if len(others) >= 4 and 2 * agreeing < len(others):
            spikes.add(id(r))
    return spikes


def mean_sd(values: list[float]) -> tuple[float, float | None]:
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, None
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


@pytest.fixture(scope="module")
def truth(chain) -> Truth:
    t = Truth(chain)
    assert t.archived_count > 0 and t.hot_count > 0  # at least one archived day
    return t


class Checker:
    """Collects mismatches, so one run lists them all."""

    def __init__(self):
        self.mismatches: list[str] = []
        self.checked = 0

    def eq(self, where: str, shown, expected) -> None:
        self.checked += 1
        if shown != expected:
            self.mismatches.append(f"{where}: page {shown!r}, expected {expected!r}")

    def near(self, where: str, shown: float, expected: float | None, tol: float = SHOWN) -> None:
        self.checked += 1
        if expected is None or abs(shown - expected) > tol:
            self.mismatches.append(f"{where}: page {shown!r}, expected {expected!r}")

    def done(self) -> None:
        assert self.mismatches == [], "\n".join(self.mismatches)
        assert self.checked > 0


def value_or_dash(check: Checker, where: str, text: str, expected: float | None) -> None:
    if expected is None:
        check.eq(where, text, "—")
    else:
        check.near(where, num(text) if text != "—" else math.nan, expected)


# --- the pages against it --------------------------------------------------------------------


def check_plant_page(chain, truth: Truth, pid: int, check: Checker) -> None:
    latest = truth.latest(pid)
    window = truth.window(pid, 24)
    w_moisture = stats([r.stat_moisture for r in window])
    w_temperature = stats([r.stat_temperature for r in window])
    days = truth.days(pid)
    waterings = truth.waterings(pid)
    start48 = truth.as_of - timedelta(hours=48)
    recent = sorted(w for w in waterings if start48 < w <= truth.as_of)
    shown_waterings = []
    dry = truth.hours_dry(pid)
    spikes = temperature_spikes(truth.by_plant[pid])
    below: list[tuple[str, bool]] = []
    page = f"plants/{pid}.html"
    for m in metrics(chain.site / page):
        where = f"{page} {m.name}" + (f" {m.day}" if m.day else "")
        if m.name == "moisture":
            value_or_dash(check, where, m.text, latest.moisture)
        elif m.name == "temperature":
            value_or_dash(check, where, m.text, latest.temperature)
        elif m.name == "hours-since-watered":
            hours, tol = hours_shown(m.text)
            expected = (truth.as_of - latest.last_watered).total_seconds() / 3600
            check.near(where, hours, expected, tol)
        elif m.name == "moisture-trend":
            value_or_dash(check, where, m.text, truth.trend(pid))
        elif m.name == "latest-recorded-at":
            check.eq(where, m.text, when(latest.recorded_at))
        elif m.name == "dry-expected-at":
            forecast_shown(check, where, m.text, truth.dry_expected(pid), when)
        elif m.name == "readings-on-record":
            check.eq(where, num(m.text), sum(len(v) for v in days.values()))
        elif m.name == "readings-24h":
            check.eq(where, num(m.text), len(window))
        elif m.name == "flagged-24h-total":
            check.eq(where, num(m.text), sum(r.flagged for r in window))
        elif m.name in ("flagged-moisture-24h", "flagged-temperature-24h"):
            measure = m.name.split("-")[1]
            check.eq(where, num(m.text), sum(r.flagged_for(measure) for r in window))
        elif m.name in ("range-reported-moisture-24h", "range-reported-temperature-24h"):
            # every recorded non-duplicate value as sent, flagged ones included
            field = "moisture" if "moisture" in m.name else "temperature"
            reported = [
                getattr(r, field)
                for r in window
                if not r.duplicate and getattr(r, field) is not None
            ]
            low, high = nums(m.text.replace("–", " "))
            check.near(where + " min", low, min(reported))
            check.near(where + " max", high, max(reported))
        elif m.name.endswith("-24h"):
            kind, metric = m.name.split("-")[:2]
            spread = w_moisture if metric == "moisture" else w_temperature
            value = spread and spread[{"min": 0, "avg": 1, "max": 2}[kind]]
            value_or_dash(check, where, m.text, value)
        elif m.name.startswith("day-"):
            rows = days[date.fromisoformat(m.day)]
            if m.name == "day-readings":
                check.eq(where, num(m.text), len(rows))
            elif m.name == "day-flagged":
                check.eq(where, num(m.text), sum(r.flagged for r in rows))
            elif m.name in ("day-moisture", "day-temperature"):
                values = [
                    r.stat_moisture if m.name == "day-moisture" else r.stat_temperature
                    for r in rows
                ]
                low, mean, high = stats(values)
                avg_shown, low_shown, high_shown = nums(m.text)
                check.near(where + " avg", avg_shown, mean)
                check.near(where + " min", low_shown, low)
                check.near(where + " max", high_shown, high)
            elif m.name == "day-baseline":
                day = date.fromisoformat(m.day)
                # the baseline leaves temperature spikes out
                values = [
                    r.stat_temperature
                    for d in range(7)
                    for r in days.get(day - timedelta(days=d), [])
                    if r.stat_temperature is not None and id(r) not in spikes
                ]
                if m.text == "—":
                    check.eq(where, values, [])
                else:
                    mean, sd = mean_sd(values)
                    shown_mean, shown_band = nums(m.text)
                    check.near(where + " mean", shown_mean, mean)
                    check.near(where + " 2sd", shown_band, 2 * (sd or 0))
            elif m.name == "day-hours-dry":
                check.near(where, num(m.text), dry[date.fromisoformat(m.day)])
            elif m.name == "day-min-reported":
                reported = [r.moisture for r in rows if not r.duplicate and r.moisture is not None]
                check.near(where, num(m.text), min(reported))
                below.append((m.day, min(reported) < MOISTURE[0]))
            elif m.name == "day-waterings":
                expected = sum(1 for w in waterings if w.date() == date.fromisoformat(m.day))
                check.eq(where, num(m.text), expected)
            else:
                check.eq(where, "a metric this test knows", m.name)
        elif m.name == "watered-at":
            shown_waterings.append(m.text)
        elif m.name == "waterings":
            pass  # the list around the watered-at items
        else:
            check.eq(where, "a metric this test knows", m.name)
    check.eq(f"{page} watered-at", shown_waterings, [when(w) for w in reversed(recent)])
    # every day of the plant's history is in the table (this chain has fewer than 30 days)
    shown_days = {m.day for m in metrics(chain.site / page) if m.name == "day-readings"}
    check.eq(f"{page} days", shown_days, {d.isoformat() for d in days})
    # the "below sensor range" marking is on exactly the days whose lowest reported value is < 0
    html = (chain.site / page).read_text(encoding="utf-8")
    marked = set(
        re.findall(r'<tr data-day="([\d-]+)">(?:(?!</tr>).)*below-sensor-range', html, re.S)
    )
    check.eq(f"{page} below sensor range", marked, {d for d, is_below in below if is_below})
    # "Now" says when its value is flagged (and so left out of the 24-hour statistics)
    latest_flagged = {"moisture": latest.moisture_bad, "temperature": latest.temperature_bad}
    for measure, bad in latest_flagged.items():
        noted = f'data-note="{measure}-flagged"' in html
        check.eq(f"{page} {measure} flagged note", noted, bad)


def test_every_plant_page_number_matches_raw_rows_and_parquet(chain, truth):
    check = Checker()
    archived_days = {date.fromisoformat(d) for d in truth.manifest["days"]}
    for pid in sorted(truth.plant_ids()):
        if truth.by_plant[pid]:
            check_plant_page(chain, truth, pid, check)
            # history reaches into the archived days
            assert archived_days & set(truth.days(pid))
    check.done()
    # at 12:30 the chain's plants are drying above their threshold: forecasts are shown
    assert any(truth.dry_expected(pid) for pid in truth.plant_ids() if truth.by_plant[pid])
    # the moisture trend is shown for every plant read in the last hour (at 12:30 none has
    # just been watered), plants drying below 0 included
    recent = [p for p in truth.plant_ids() if truth.window(p, 1)]
    assert recent and all(truth.trend(pid) is not None for pid in recent)
    # some plant was dry for a while, and some day's lowest reported value is below 0 (the
    # simulator's glitches): hours dry and the "below sensor range" marking are exercised
    assert any(h > 0.1 for pid in truth.plant_ids() for h in truth.hours_dry(pid).values())
    assert any(r.moisture is not None and r.moisture < 0 for r in truth.readings)
    assert check.checked > 200


def test_every_overview_number_matches_raw_rows_and_parquet(chain, truth):
    check = Checker()
    statuses: dict[str, int] = {}
    rows: dict[str, int] = defaultdict(int)
    for m in metrics(chain.site / "index.html"):
        where = f"index.html {m.name}" + (f" plant {m.plant}" if m.plant else "")
        if m.plant:
            pid = int(m.plant)
            latest = truth.latest(pid)
            if m.name == "moisture":
                value_or_dash(check, where, m.text, latest.moisture)
            elif m.name == "temperature":
                value_or_dash(check, where, m.text, latest.temperature)
            elif m.name == "hours-since-watered":
                hours, tol = hours_shown(m.text)
                expected = (truth.as_of - latest.last_watered).total_seconds() / 3600
                check.near(where, hours, expected, tol)
            elif m.name == "latest-recorded-at":
                check.eq(where, m.text, when(latest.recorded_at))
            elif m.name == "dry-expected-at":
                forecast_shown(check, where, m.text, truth.dry_expected(pid), when_day)
            elif m.name == "open-incidents":
                rows["open-incidents"] += int(num(m.text))  # a rule's output: agrees below
            else:
                check.eq(where, "a metric this test knows", m.name)
        elif m.name == "plants":
            check.eq(where, num(m.text), len(truth.plant_ids()))
        elif m.name.startswith("status-"):
            statuses[m.name] = int(num(m.text))
        elif m.name == "open-incidents":
            rows["total-open-incidents"] = int(num(m.text))
        elif m.name == "as-of":
            check.eq(where, m.text, when(truth.as_of))
        elif m.name == "hot-readings":
            check.eq(where, num(m.text), truth.hot_count)
        elif m.name == "archive-readings":
            check.eq(where, num(m.text), truth.archived_count)
        elif m.name == "archive-size":
            size, tol = si_bytes(m.text)
            check.near(where, size, archive_bytes(chain), tol)
        elif m.name == "plants-reporting":
            reporting = sum(statuses.get(f"status-{s}", 0) for s in ("ok", "warning", "critical"))
            check.eq(where, num(m.text), reporting)
        else:
            check.eq(where, "a metric this test knows", m.name)
    # statuses are dbt's rules; the page agrees with itself: every plant has exactly one
    check.eq("index.html status counts", sum(statuses.values()), len(truth.plant_ids()))
    check.eq("index.html open incidents", rows["open-incidents"], rows["total-open-incidents"])
    check.done()


def archive_bytes(chain, day: str | None = None, kind: str | None = None) -> int:
    """Bytes of the Parquet files on disk (not the manifest's own count)."""
    total = 0
    for folder in ("readings", "fetch_failures"):
        if kind and folder != kind:
            continue
        for path in (chain.archive / folder).glob(f"day={day or '*'}/*.parquet"):
            total += os.path.getsize(path)
    return total


def test_every_archive_page_number_matches_the_parquet_files(chain, truth):
    check = Checker()
    readings_per_day = defaultdict(int)
    con = duckdb.connect()
    for kind in ("readings", "fetch_failures"):
        for path in chain.archive.glob(f"{kind}/day=*/*.parquet"):
            day = path.parent.name.removeprefix("day=")
            rows = con.execute(f"select count(*) from read_parquet('{path}')").fetchone()[0]
            readings_per_day[(kind, day)] += rows
    days = sorted({day for _, day in readings_per_day})
    assert days == sorted(truth.manifest["days"])
    for m in metrics(chain.site / "archive.html"):
        where = f"archive.html {m.name}" + (f" {m.day}" if m.day else "")
        if m.name == "archived-days":
            check.eq(where, num(m.text), len(days))
        elif m.name == "archived-readings":
            check.eq(where, num(m.text), truth.archived_count)
        elif m.name == "archived-failures":
            check.eq(
                where,
                num(m.text),
                sum(v for (k, _), v in readings_per_day.items() if k != "readings"),
            )
        elif m.name == "archived-size":
            size, tol = si_bytes(m.text)
            check.near(where, size, archive_bytes(chain), tol)
        elif m.name == "readings":
            check.eq(where, num(m.text), readings_per_day[("readings", m.day)])
        elif m.name == "readings-size":
            size, tol = si_bytes(m.text)
            check.near(where, size, archive_bytes(chain, m.day, "readings"), tol)
        elif m.name == "failures":
            check.eq(where, num(m.text), readings_per_day[("fetch_failures", m.day)])
        elif m.name == "bytes-per-reading":
            expected = (
                archive_bytes(chain, m.day, "readings") / readings_per_day[("readings", m.day)]
            )
            check.near(where, num(m.text), expected)
        elif m.name == "files":
            files = len(list(chain.archive.glob(f"*/day={m.day}/*.parquet")))
            check.eq(where, num(m.text), files)
        else:
            check.eq(where, "a metric this test knows", m.name)
    check.done()


def test_every_data_quality_number_matches_raw_rows_and_parquet(chain, truth):
    check = Checker()
    per_day: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in truth.readings:
        counts = per_day[r.fetched_at.date().isoformat()]
        counts["received"] += 1
        counts["flagged"] += r.flagged
        for reason, on in r.reasons.items():
            counts[reason] += on
    for _, kind, at in truth.failures:
        counts = per_day[at.date().isoformat()]
        counts["failed"] += 1
        counts[f"failed_{kind}"] += 1
        # the API's definite answers about ids that are away or gone are expected, not faults
        counts["expected_failures" if kind in EXPECTED_FAILURES else "fault_failures"] += 1
    seen_days = set()
    for m in metrics(chain.site / "data-quality.html"):
        where = f"data-quality.html {m.name} {m.day}"
        seen_days.add(m.day)
        check.eq(where, num(m.text), per_day[m.day][m.name])
    check.eq("data-quality.html days", seen_days, set(per_day))
    # the archived days are there, and their counts come from Parquet rows
    assert set(truth.manifest["days"]) <= seen_days
    check.done()


def test_sizes_are_si_on_every_page(chain):
    """One convention: kB/MB/GB of 1,000 (the archive page said 1.8 'MB' for 1.93 MB)."""
    from lnhm.units import format_bytes

    assert format_bytes(1_930_000) == "1.9 MB"
    assert format_bytes(999) == "999 B"
    assert format_bytes(999_950) == "1.0 MB"
    assert format_bytes(585_360) == "585.4 kB"
    assert format_bytes(2_500_000_000) == "2.5 GB"
    for page in chain.site.rglob("*.html"):
        text = page.read_text()
        assert not re.search(r"\d (KB|KiB|MiB|GiB)\b", text), page
