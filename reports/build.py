"""Build the static report site: the report marts read as they are, Jinja2 pages, SVG charts.

Steps (each prints a progress line to stderr):
1. attach the hot store read-only, copy the report marts (models/marts/reports/, MARTS), detach;
2. read manifest.json for the archive page (queries/manifest.sql);
3. render the charts and pages, write them out, publish the site in one rename.
Every figure on the site is a column of a mart: dbt computes it, this module formats it.
"""

from __future__ import annotations

import re
import shutil
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from urllib.parse import quote

import duckdb
import humanize
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from lnhm import duck
from lnhm.joblog import JobFailed
from lnhm.settings import Settings
from lnhm.timefmt import as_utc, format_local
from lnhm.units import format_bytes
from reports import archived, charts, origins, publish
from reports.words import plural, plural_noun

HERE = Path(__file__).parent
QUERIES = HERE / "queries"
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

STATUS = {
    "ok": ("✔", "OK"),
    "warning": ("⚠", "Warning"),
    "critical": ("✖", "Critical"),
    "missing": ("?", "Missing"),
    "on_loan": ("⇄", "On loan"),
    "sensor_fault": ("⚡", "Sensor fault"),
}


# The report marts (models/marts/reports/) the pages read, under the names the pages use. Each is
# copied whole into the in-memory session at the start (one consistent snapshot; the hot store
# is detached at once, so a writer waiting for the DuckDB file is held up only that long). Only
# marts.* is read (the PostgreSQL reporter role reads marts only).
MARTS = {
    "site": "rpt_site",
    "plants": "rpt_plants",
    "plant_days": "rpt_plant_days",
    "plant_24h": "rpt_plant_24h",
    "series_24h": "rpt_plant_series_24h",
    "flagged_24h": "rpt_flagged_readings_24h",
    "waterings_48h": "rpt_plant_waterings_48h",
    "incidents": "rpt_incidents",
    "botanists": "rpt_botanists",
    "data_quality_daily": "rpt_data_quality_daily",
    "failure_kinds": "dim_failure_kinds",  # labels of failed requests (seed failure_kinds)
    **origins.MARTS,  # the origin pages (reports/origins.py)
}


def query(name: str) -> str:
    return (QUERIES / f"{name}.sql").read_text(encoding="utf-8")


def rows(con: duckdb.DuckDBPyConnection, table: str, order: str, where: str = "true") -> list[dict]:
    """The rows of one snapshot table, in the order the pages list them (nothing computed)."""
    cursor = con.execute(f"select * from {table} where {where} order by {order}")  # noqa: S608
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def by_plant(rows: list[dict]) -> dict[int, list[dict]]:
    grouped: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[row["plant_id"]].append(row)
    return grouped


class Progress:
    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"reports: [{elapsed:6.2f}s] {message}", file=self.stream, flush=True)


# --- reading ---------------------------------------------------------------------------------


def archive_root(settings: Settings) -> str:
    if settings.archive_is_s3:
        return settings.archive_url.rstrip("/")
    return str(Path(settings.archive_url).expanduser().resolve())


def open_data(settings: Settings, say) -> duckdb.DuckDBPyConnection:
    """A DuckDB session holding the report marts' snapshot and the archive's manifest."""
    con = duck.connect(settings, hot="ro", archive=True)
    con.execute("set enable_progress_bar = false")
    store = "PostgreSQL" if settings.warehouse == "postgres" else str(settings.duckdb_path)
    try:
        for name, mart in MARTS.items():
            con.execute(f"create or replace temp table {name} as select * from hot.marts.{mart}")
    except duckdb.CatalogException as exc:
        raise JobFailed(
            f"the hot store {store} has no report marts yet ({str(exc).splitlines()[0]}): "
            "run make transform first"
        ) from None
    finally:
        con.execute("detach hot")
    plants = con.execute("select count(*) from plants").fetchone()[0]
    say(f"hot store {store}: report marts copied ({plural(plants, 'plant')}), store detached")

    root = archive_root(settings)
    con.execute("set variable manifest_url = ?", [f"{root}/manifest.json"])
    con.execute(query("manifest"))
    days = con.execute("select count(*) from manifest_days").fetchone()[0]
    say(f"archive {root}: {plural(days, 'day')} in manifest.json")
    return con


def freshness_facts(site: dict, archive_days: list[dict], generated_at: datetime) -> dict:
    """The overview's "how fresh" box: the rpt_site row, the manifest's entries, the clock."""
    facts = dict(site)
    facts["generated_at"] = generated_at
    as_of = site["as_of_at"]
    facts["minutes_behind"] = (
        int((generated_at - as_of).total_seconds() // 60) if as_of is not None else None
    )
    # How old the newest reading is when the page is written (pages rewrite every 5 minutes and
    # reload themselves), and whether to mark the page stale: dbt says whether the feed is down
    # and after how long a plant counts as missing; the page only compares with its own clock.
    newest = site["hot_last_recorded_at"]
    age = generated_at - newest if newest is not None else None
    facts["newest_reading_age"] = humanize.naturaltime(age) if age is not None else "no readings"
    facts["minutes_since_newest_reading"] = int(age.total_seconds() // 60) if age else None
    facts["is_stale"] = bool(
        age is None
        or site["is_feed_down"]
        or age.total_seconds() > 60 * site["stale_after_minutes"]
    )
    # the archive's own record of itself (manifest.json), totalled for one line of text
    facts["archived_days"] = len(archive_days)
    facts["archive_first_day"] = min((d["day"] for d in archive_days), default=None)
    facts["archive_last_day"] = max((d["day"] for d in archive_days), default=None)
    facts["archived_readings"] = sum(d["readings"] for d in archive_days)
    facts["archived_failures"] = sum(d["fetch_failures"] for d in archive_days)
    facts["archived_bytes"] = sum(
        d["readings_bytes"] + d["fetch_failures_bytes"] for d in archive_days
    )
    facts["last_archived_at"] = max(
        (d["archived_at"] for d in archive_days if d["archived_at"]), default=None
    )
    return facts


# --- pages -----------------------------------------------------------------------------------


def _fmt_number(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def _fmt_time(value, style: str = "long", tz: tzinfo = UTC) -> str:
    """A time as the museum's wall clock with its zone's abbreviation ("14:00 BST"), inside a
    <time> element whose datetime/data-utc attributes keep the UTC instant for machines."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        # lnhm.timefmt: the one formatting of times for people, shared with the e-mails
        text = format_local(value, tz, style if style in ("short", "day") else "long")
        utc = as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")
        return Markup(f'<time datetime="{utc}" data-utc="{utc}">{text}</time>')
    if isinstance(value, date):  # a day of the warehouse (UTC days, as archived)
        return value.strftime("%a %d %b %Y")
    return str(value)


def _fmt_hours(value) -> str:
    if value is None:
        return "—"
    if value < 1:
        return f"{value * 60:.0f} min"
    return f"{value:.1f} h"


MOISTURE_KINDS = ("moisture_low", "moisture_high")
# statuses under which the latest moisture value is not to be judged (old, or from a bad sensor)
UNJUDGED = ("missing", "on_loan", "sensor_fault")


def moisture_state(plant: dict, open_incidents: list[dict]) -> str:
    """The moisture bar's colour, from dbt's verdicts rather than a scale of our own: the
    severity of the plant's open moisture incident (fct_incidents, the care_thresholds rules),
    "unknown" when its status says the value is not current, else "ok". So a just-watered 98 %
    plant is green, and 20 % is green for a plant whose low threshold is 15 %."""
    if plant["status"] in UNJUDGED:
        return "unknown"
    severities = {
        i["severity"]
        for i in open_incidents
        if i["plant_id"] == plant["plant_id"] and i["kind"] in MOISTURE_KINDS
    }
    return next((s for s in ("critical", "warning") if s in severities), "ok")


def _safe_url(value) -> str | None:
    """Only plain http(s) links from the API become links (no javascript: or data:)."""
    if isinstance(value, str) and re.match(r"^https?://[^\s\"'<>]+$", value):
        return value
    return None


def make_env(email: str, generated_at: datetime, tz: tzinfo = UTC) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _fmt_number
    env.filters["when"] = lambda value, style="long": _fmt_time(value, style, tz)
    env.filters["size"] = format_bytes
    env.filters["hours"] = _fmt_hours
    env.filters["safe_url"] = _safe_url
    env.filters["plural"] = plural  # "1 day", "2 days"
    env.filters["noun"] = plural_noun  # the noun alone, after a number shown apart
    env.globals["status_info"] = lambda status: STATUS.get(status, ("•", str(status)))

    def problem_link(subject: str) -> str:
        stamp = format_local(generated_at, tz, "stamp")
        body = f"Page: {subject}\nReport generated: {stamp}\n\nWhat looks wrong:\n"
        return (
            f"mailto:{quote(email, safe='@')}"
            f"?subject={quote('LNHM plant reports: problem with ' + subject)}"
            f"&body={quote(body)}"
        )

    env.globals["problem_link"] = problem_link
    env.globals["generated_at"] = generated_at
    env.globals["problem_email"] = email
    return env


def write_page(env: Environment, out: Path, rel: str, template: str, **context) -> None:
    depth = rel.count("/")
    root = "../" * depth
    html = env.get_template(template).render(root=root, page=rel, **context)
    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")


def build(settings: Settings, out: Path | None = None, say=None) -> dict:
    """Generate the whole site; return counts for the job log."""
    say = say or Progress()
    out = Path(out or settings.reports_dir)
    warm = threading.Thread(target=charts.warm_up, daemon=True)
    warm.start()  # Altair and vl-convert start up while DuckDB works (it releases the GIL)
    con = open_data(settings, say)

    site = rows(con, "site", "as_of_at")[0]
    overview = rows(con, "plants", "urgency, plant_id")
    incidents = rows(con, "incidents", "plant_id, started_at desc, incident_id")
    stats = {row["plant_id"]: row for row in rows(con, "plant_24h", "plant_id")}
    series = by_plant(rows(con, "series_24h", "plant_id, bucket_at"))
    flagged = by_plant(rows(con, "flagged_24h", "plant_id, recorded_at"))
    history = by_plant(rows(con, "plant_days", "plant_id, day"))
    waterings = by_plant(rows(con, "waterings_48h", "plant_id, watered_at"))
    anomalies = by_plant(incidents)
    open_incidents = rows(con, "incidents", "started_at desc, plant_id", where="is_open")
    botanists = rows(con, "botanists", "botanist_name, botanist_id")
    archive_days = rows(con, "manifest_days", "day desc")
    quality = rows(con, "data_quality_daily", "day desc")
    failure_kinds = rows(con, "failure_kinds", "code")
    origin_plants = rows(con, "origin_plants", "origin_key, urgency, plant_id")
    origin_pages = origins.pages(
        rows(con, "origins", "origin_kind desc, origin_name, origin_key"),
        origin_plants,
        rows(con, "origin_days", "origin_key, plant_id, day"),
    )
    origin_links = origins.links(origin_plants)
    con.close()
    for plant in overview:
        plant["moisture_state"] = moisture_state(plant, open_incidents)
    say(
        f"marts read: {plural(len(overview), 'plant')}, {plural(len(botanists), 'botanist')}, "
        f"{plural(len(quality), 'day')}"
    )
    generated_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    freshness = freshness_facts(site, archive_days, generated_at)

    as_of = freshness["as_of_at"]
    env = make_env(settings.problem_report_email, generated_at, settings.timezone)

    tmp = publish.staging_dir(out)  # inside the folder: it may be a mount point
    (tmp / "charts").mkdir(parents=True)
    for name in ("style.css", "plant-placeholder.svg"):
        shutil.copy(STATIC / name, tmp / name)

    # Archived days: downloads and minute pages, written for new days only (archived.py)
    plants_by_id = {plant["plant_id"]: plant for plant in overview}

    def day_page(rel: str, pid: int, day: date, day_rows: list[dict], downloads: dict) -> None:
        plant = plants_by_id.get(pid, {"plant_id": pid, "plant_name": None})
        name = plant["plant_name"] or f"plant {pid}"
        write_page(
            env,
            tmp,
            rel,
            "archived_day.html",
            subject=f"plant {pid} ({name}) on {day:%a %d %b %Y}",
            plant=plant,
            day=day,
            rows=day_rows,
            summary=next((d for d in history.get(pid, []) if d["day"] == day), None),
            chart=Markup(archived.minute_chart(name, day_rows, day, settings.timezone)),
            table=archived.table_rows(day_rows, settings.timezone),
            downloads=downloads,
        )

    previous, old_index = archived.previous_index(out)
    archive_run = archived.write_days(
        settings, archive_days, previous, old_index, tmp, day_page, say
    )
    written = archive_run["days"]
    day_pages = defaultdict(set)
    for day, entry in written.items():
        for pid in entry["plants"]:
            day_pages[pid].add(day)
    downloads = {
        day: {
            "csv": entry["csv"],
            "parquet": entry["parquet"],
            "csv_bytes": (tmp / entry["csv"]).stat().st_size,
            "parquet_bytes": (tmp / entry["parquet"]).stat().st_size,
        }
        for day, entry in written.items()
    }

    window = (as_of - timedelta(hours=24), as_of) if as_of else None
    day_charts, history_charts = {}, {}
    for plant in overview:
        pid = plant["plant_id"]
        name = plant["plant_name"] or f"plant {pid}"
        days = history.get(pid, [])
        plant_anomalies = anomalies.get(pid, [])
        if window and series.get(pid):
            baseline = next(
                (d for d in reversed(days) if d["temperature_c_mean_7d"] is not None), None
            )
            recent = [w for w in waterings.get(pid, []) if w["is_last_24h"]]
            day_charts[pid] = Markup(
                charts.day_chart(
                    name,
                    series[pid],
                    flagged.get(pid, []),
                    recent,
                    plant_anomalies,
                    baseline,
                    window,
                    settings.timezone,
                )
            )
        if days:
            history_charts[pid] = Markup(charts.history_chart(name, days, plant_anomalies))
    warm.join()
    if quality:
        charts.quality_chart(quality, failure_kinds, tmp / "charts" / "data-quality.svg")
    chart_count = len(day_charts) + len(history_charts) + (1 if quality else 0)
    say(f"drew {plural(chart_count, 'chart')}")

    common = {"freshness": freshness, "as_of": as_of}
    write_page(
        env,
        tmp,
        "index.html",
        "overview.html",
        subject="the overview page",
        plants=overview,
        incidents=open_incidents,
        status_counts={status: site[f"plants_{status}"] for status in STATUS},
        **common,
    )
    for plant in overview:
        pid = plant["plant_id"]
        days = history.get(pid, [])
        write_page(
            env,
            tmp,
            f"plants/{pid}.html",
            "plant.html",
            subject=f"plant {pid} ({plant['plant_name'] or 'no name'})",
            plant=plant,
            stats=stats.get(pid),
            days=list(reversed(days[-30:])),
            history_days=len(days),
            waterings=list(reversed(waterings.get(pid, []))),
            anomalies=anomalies.get(pid, []),
            flagged=flagged.get(pid, []),
            day_chart=day_charts.get(pid),
            history_chart=history_charts.get(pid),
            origin_links=origin_links.get(pid, {}),
            day_pages=day_pages.get(pid, set()),
            **common,
        )
    say(f"wrote {plural(len(overview), 'plant page')}")
    plants_by_botanist = defaultdict(list)
    for plant in overview:
        plants_by_botanist[plant["botanist_id"]].append(plant)
    incidents_by_botanist = defaultdict(list)
    for incident in open_incidents:
        incidents_by_botanist[incident["botanist_id"]].append(incident)
    write_page(
        env,
        tmp,
        "botanists/index.html",
        "botanists.html",
        subject="the botanists page",
        botanists=botanists,
        **common,
    )
    for person in botanists:
        bid = person["botanist_id"]
        write_page(
            env,
            tmp,
            f"botanists/{bid}.html",
            "botanist.html",
            botanist=person,
            subject=f"botanist {bid} ({person['botanist_name'] or 'no name'})",
            plants=plants_by_botanist.get(bid, []),
            incidents=incidents_by_botanist.get(bid, []),
            **common,
        )
    write_page(
        env,
        tmp,
        "archive.html",
        "archive.html",
        subject="the archive page",
        days=archive_days,
        downloads=downloads,
        **common,
    )
    write_page(
        env,
        tmp,
        "data-quality.html",
        "quality.html",
        subject="the data quality page",
        days=quality,
        # expected answers (on loan, not found: seed failure_kinds.is_expected) before faults
        fails=[
            (f"failed_{kind['code']}", kind["label"])
            for kind in sorted(failure_kinds, key=lambda kind: not kind["is_expected"])
        ],
        **common,
    )
    for rel, template, context in origin_pages:
        write_page(env, tmp, rel, template, **context, **common)
    say(
        f"wrote {plural(len(botanists), 'botanist page')}, "
        f"{plural(len(origin_pages) - 1, 'origin page')}, archive and data quality"
    )

    # Switch the finished site in, so a reader never sees a half-written one.
    live = publish.publish(tmp, out)
    pages = sum(1 for _ in live.rglob("*.html"))
    written = f"{plural(pages, 'page')}, {plural(chart_count, 'chart')}"
    say(f"site written to {out}/index.html ({written})")
    return {
        "pages": pages,
        "charts": chart_count,
        "plants": len(overview),
        "botanists": len(botanists),
        "archived_days": len(archive_days),
        "archived_days_written": archive_run["new_days"],  # the rest linked from the build before
        "archived_days_waiting": archive_run["waiting_days"],
        "archived_days_unreadable": archive_run["unreadable_days"],
        "hot_readings": site["hot_readings"],
    }
