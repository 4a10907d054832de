"""Operator alerts (``python -m alerts ops``): is the warehouse itself healthy?

Checks, each an incident with one problem message and one recovery message to
``LNHM_OPERATOR_EMAIL``:

- ``store_capacity``: hot store size (PostgreSQL ``pg_database_size``, DuckDB file + WAL size)
  at or above ``LNHM_OPS_CAPACITY_WARN_PCT`` of ``LNHM_STORE_CAPACITY_BYTES``, with growth per
  day from ``alerts.store_size_history`` (one sample per run, kept 30 days).
- ``ingest_failing``: the last ``LNHM_OPS_INGEST_FAILED_RUNS`` rows of ``raw.ingest_runs`` all
  failed.
- ``sources_stale``: the newest ``raw.plant_readings.fetched_at`` is older than
  ``LNHM_OPS_STALE_MINUTES``.
- ``archive_overdue``: the archive's ``manifest.json`` shows no run in the last
  ``LNHM_OPS_ARCHIVE_HOURS`` while the hot store still holds a UTC day that has been due for
  the archive (day end + ``LNHM_RETENTION_HOURS``) for longer than that; or the manifest
  cannot be read.
- ``archive_files``: a file the archive's manifest lists is missing or has another size than
  recorded (one listing, the archive job's own check, ``archive.audit.check_listed``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

from alerts.dispatch import Incident, Outgoing, deliver, plan
from alerts.messages import fmt_bytes, fmt_when, render
from alerts.store import Store, session, utc_naive
from lnhm.locking import writer_lock
from lnhm.settings import AlertConfig, Settings

CHECKS = ("store_capacity", "ingest_failing", "sources_stale", "archive_overdue", "archive_files")


@dataclass
class Finding:
    check: str
    title: str
    summary: str
    action: str
    facts: list[tuple[str, str]] = field(default_factory=list)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _age(now: datetime, then: datetime) -> str:
    minutes = max(0, int((now - then).total_seconds() // 60))
    if minutes < 120:
        return f"{minutes} min"
    if minutes < 72 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"


# --- hot store size ----------------------------------------------------------------------
def store_size(store: Store, settings: Settings) -> int:
    if store.dialect == "postgres":
        return int(store.scalar("select pg_database_size(current_database())"))
    total = 0
    for path in (settings.duckdb_path, Path(f"{settings.duckdb_path}.wal")):
        if path.exists():
            total += path.stat().st_size
    return total


def record_size(
    store: Store, cfg: AlertConfig, now: datetime, size: int, write: bool = True
) -> list[dict]:
    """Add this run's sample, drop old ones; return the samples of the last 8 days."""
    if write:
        store.execute(
            "insert into alerts.store_size_history (measured_at, size_bytes) values (%s, %s)"
            " on conflict do nothing",
            (now, size),
        )
        store.execute(
            "delete from alerts.store_size_history where measured_at < %s",
            (now - timedelta(days=cfg.size_history_days),),
        )
    return store.rows(
        "select measured_at, size_bytes from alerts.store_size_history"
        " where measured_at >= %s order by measured_at",
        (now - timedelta(days=8),),
    )


def growth_per_day(history: list[dict], now: datetime, size: int) -> float | None:
    """Bytes per day since the oldest sample of the last 7 days that is at least 1 h old."""
    window = [
        h
        for h in history
        if now - timedelta(days=7) <= h["measured_at"] <= now - timedelta(hours=1)
    ]
    if not window:
        return None
    oldest = window[0]
    days = (now - oldest["measured_at"]).total_seconds() / 86400
    return (size - oldest["size_bytes"]) / days


def check_capacity(
    settings: Settings, cfg: AlertConfig, size: int, growth: float | None
) -> Finding | None:
    capacity = settings.store_capacity_bytes
    used = 100.0 * size / capacity
    if used < cfg.capacity_warn_pct:
        return None
    facts = [
        ("Size", f"{fmt_bytes(size)} ({size} bytes)"),
        ("Capacity", f"{fmt_bytes(capacity)} (LNHM_STORE_CAPACITY_BYTES)"),
        ("Used", f"{used:.1f} %"),
        (
            "Growth per day",
            "not known yet (needs an hour of samples)"
            if growth is None
            else f"{fmt_bytes(growth)}/day",
        ),
    ]
    if growth and growth > 0 and size < capacity:
        facts.append(("Full in about", f"{(capacity - size) / growth:.1f} days"))
    store = "PostgreSQL database" if settings.warehouse == "postgres" else "DuckDB file"
    return Finding(
        "store_capacity",
        f"hot store {used:.0f} % full",
        f"The hot store ({store}) uses {fmt_bytes(size)} of {fmt_bytes(capacity)}, "
        f"at or above the {cfg.capacity_warn_pct:g} % warning level.",
        "check that the daily archive runs and prunes (make archive); grow the store or raise "
        "LNHM_STORE_CAPACITY_BYTES if the capacity is really larger.",
        facts,
    )


# --- ingest and freshness ----------------------------------------------------------------
def check_ingest(store: Store, cfg: AlertConfig, tz: tzinfo = UTC) -> Finding | None:
    if not store.has_table("raw", "ingest_runs"):
        return None
    runs = store.rows(
        "select run_id, started_at, outcome, plants_polled, failures from raw.ingest_runs"
        " order by started_at desc limit %s",
        (cfg.ingest_failed_runs,),
    )
    if len(runs) < cfg.ingest_failed_runs or any(r["outcome"] != "failed" for r in runs):
        return None
    last_ok = store.scalar("select max(started_at) from raw.ingest_runs where outcome = 'ok'")
    return Finding(
        "ingest_failing",
        f"ingest failed {len(runs)} runs in a row",
        f"The last {len(runs)} ingest runs all failed; the newest started at "
        f"{fmt_when(utc_naive(runs[0]['started_at']), tz)}.",
        'look at the ingest job\'s log lines (job "ingest") and raw.plant_fetch_failures; '
        "check LNHM_API_URL is reachable.",
        [
            ("Failed runs", ", ".join(str(r["run_id"]) for r in runs)),
            ("Last successful run", fmt_when(utc_naive(last_ok), tz) if last_ok else "never"),
            ("Failures in newest run", str(runs[0].get("failures"))),
        ],
    )


def check_sources(
    store: Store, cfg: AlertConfig, now: datetime, tz: tzinfo = UTC
) -> Finding | None:
    newest = None
    if store.has_table("raw", "plant_readings"):
        newest = utc_naive(store.scalar("select max(fetched_at) from raw.plant_readings"))
    if newest is not None and now - newest <= timedelta(minutes=cfg.stale_minutes):
        return None
    if newest is None:
        summary = "No reading has been loaded into raw.plant_readings yet."
        facts = [("Newest reading fetched", "never")]
    else:
        summary = (
            f"The newest reading was fetched {_age(now, newest)} ago, more than "
            f"{cfg.stale_minutes:g} minutes."
        )
        facts = [("Newest reading fetched", fmt_when(newest, tz)), ("Age", _age(now, newest))]
    return Finding(
        "sources_stale",
        "plant readings are stale",
        summary,
        "check that the ingest job is scheduled (make ingest every minute) and that the plants "
        "API answers.",
        facts,
    )


# --- archive -----------------------------------------------------------------------------
def read_manifest(settings: Settings) -> dict | None:
    """The archive's manifest.json, or None if there is none yet."""
    url = settings.archive_url
    if not url.startswith("s3://"):
        path = Path(url) / "manifest.json"
        return json.loads(path.read_text()) if path.exists() else None
    import boto3
    from botocore.config import Config

    bucket, _, prefix = url[len("s3://") :].partition("/")
    key = f"{prefix.strip('/')}/manifest.json" if prefix.strip("/") else "manifest.json"
    client = boto3.client(
        "s3",
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2}),
    )
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except client.exceptions.NoSuchKey:
        return None
    return json.loads(body)


def _parse_time(value) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC).replace(tzinfo=None)
    try:
        return utc_naive(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return None


def last_archived_at(manifest: dict) -> datetime | None:
    times = [_parse_time(day.get("archived_at")) for day in (manifest.get("days") or {}).values()]
    times += [_parse_time(manifest.get(key)) for key in ("archived_at", "updated_at")]
    times = [t for t in times if t is not None]
    return max(times) if times else None


def oldest_hot_reading(store: Store) -> datetime | None:
    if store.has_table("marts", "fct_readings"):
        value = store.scalar("select min(recorded_at) from marts.fct_readings")
        if value is not None:
            return utc_naive(value)
    if store.has_table("raw", "plant_readings"):
        return utc_naive(store.scalar("select min(fetched_at) from raw.plant_readings"))
    return None


def archive_due_at(settings: Settings, oldest: datetime) -> datetime:
    """When the oldest hot reading's UTC day becomes due for the archive."""
    day_end = datetime.combine(oldest.date(), datetime.min.time()) + timedelta(days=1)
    return day_end + timedelta(hours=settings.retention_hours)


def check_archive(
    settings: Settings, cfg: AlertConfig, now: datetime, oldest: datetime | None
) -> Finding | None:
    """Overdue: no archive run for ``archive_hours`` while the hot store holds a day that has
    been due for the archive for longer than that (so a quiet day with nothing to archive
    raises nothing)."""
    action = (
        "run make archive and read its log line; check LNHM_ARCHIVE_URL and the AWS credentials."
    )
    try:
        manifest = read_manifest(settings)
    except Exception as exc:  # noqa: BLE001 - any failure to read is the finding itself
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return Finding(
            "archive_overdue",
            "archive manifest cannot be read",
            f"Reading {settings.archive_url}/manifest.json failed: {reason}",
            action,
            [("Archive", settings.archive_url)],
        )
    limit = timedelta(hours=cfg.archive_hours)
    last = last_archived_at(manifest) if manifest is not None else None
    if last is not None and now - last <= limit:
        return None
    if oldest is None:
        return None
    due = archive_due_at(settings, oldest)
    if now - due <= limit:
        return None
    tz = settings.timezone
    when = fmt_when(last, tz) if last else "never"
    return Finding(
        "archive_overdue",
        f"archive has not run for {cfg.archive_hours:g} hours",
        f"The last archive run was {when}, and the hot store still holds readings from "
        f"{fmt_when(oldest, tz)}, due for the archive since {fmt_when(due, tz)}.",
        action,
        [
            ("Archive", settings.archive_url),
            ("Last archived", when),
            ("Oldest hot reading", fmt_when(oldest, tz)),
            ("Due since", fmt_when(due, tz)),
            ("Days in manifest", str(len((manifest or {}).get("days") or {}))),
        ],
    )


def check_archive_files(settings: Settings) -> Finding | None:
    """Every file the manifest lists exists with its recorded size (a deleted Parquet file is
    noticed the day it goes, not at the next archive run). An archive that cannot be read at
    all is ``archive_overdue``'s finding, not this one."""
    from archive import audit
    from archive import manifest as mf
    from archive.store import open_store

    try:
        store = open_store(settings.archive_url, settings)
        audit.check_listed(store, mf.load(store), audit.stored(store))
    except (audit.AuditError, mf.ManifestError) as exc:
        return Finding(
            "archive_files",
            "archive files do not match the manifest",
            str(exc),
            "restore the named files from a backup, or run make archive-repair (see "
            "archive/README.md); make archive prunes nothing until then.",
            [("Archive", settings.archive_url)],
        )
    except Exception:  # noqa: BLE001 - unreachable or unreadable: archive_overdue reports it
        return None
    return None


# --- the job -----------------------------------------------------------------------------
def _incident(settings: Settings, finding: Finding, now: datetime) -> Incident:
    return Incident(
        alert_key=f"ops:{finding.check}:{now:%Y%m%dT%H%M%S}",
        match_key=f"ops:{finding.check}",
        audience="operator",
        recipient=settings.operator_email,
        details={
            "check": finding.check,
            "title": finding.title,
            "summary": finding.summary,
            "action": finding.action,
            "facts": finding.facts,
        },
    )


def run_ops(
    settings: Settings,
    cfg: AlertConfig,
    counts: dict,
    now: datetime | None = None,
    dry_run: bool = False,
) -> None:
    now = now or _now()
    with writer_lock(settings, name="alerts.ops", job="alerts-ops"):
        with session(settings, job="alerts-ops") as store:
            store.ensure_alert_tables()
            size = store_size(store, settings)
            history = record_size(store, cfg, now, size, write=not dry_run)
            tz = settings.timezone
            findings = [check_ingest(store, cfg, tz), check_sources(store, cfg, now, tz)]
            oldest = oldest_hot_reading(store)
            open_rows = store.open_incidents("operator")
            sent_problems = store.sent_keys("problem")
        growth = growth_per_day(history, now, size)
        findings.append(check_capacity(settings, cfg, size, growth))
        findings.append(check_archive(settings, cfg, now, oldest))
        findings.append(check_archive_files(settings))
        found = [f for f in findings if f is not None]
        counts.update(
            store_bytes=size,
            store_used_pct=round(100.0 * size / settings.store_capacity_bytes, 2),
            growth_bytes_per_day=None if growth is None else round(growth),
            failing=[f.check for f in found],
        )
        new, ended = plan([_incident(settings, f, now) for f in found], open_rows, sent_problems)
        outgoing = []
        for incident in new:
            d = incident.details
            subject = f"[LNHM ops] {d['title']}"
            message = render(
                settings,
                "ops_alert",
                {
                    "message_kind": "problem",
                    **{k: d[k] for k in ("title", "summary", "action")},
                    "facts": d["facts"],
                },
                subject=subject,
                to=incident.recipient,
                alert_key=incident.alert_key,
                message_kind="problem",
            )
            outgoing.append(
                Outgoing(
                    incident.alert_key,
                    "problem",
                    incident.match_key,
                    "operator",
                    incident.recipient,
                    d,
                    message,
                )
            )
        for row in ended:
            d = row["details"]
            subject = f"[LNHM ops] Resolved: {d.get('title', row['match_key'])}"
            message = render(
                settings,
                "ops_alert",
                {
                    "message_kind": "recovery",
                    "title": d.get("title", row["match_key"]),
                    "summary": "The check passes again.",
                    "announced_at": row["sent_at"],
                    "resolved_at": now,
                },
                subject=subject,
                to=settings.operator_email,
                alert_key=row["alert_key"],
                message_kind="recovery",
            )
            outgoing.append(
                Outgoing(
                    row["alert_key"],
                    "recovery",
                    row["match_key"],
                    "operator",
                    settings.operator_email,
                    d,
                    message,
                )
            )
        deliver(settings, outgoing, counts, job="alerts-ops", dry_run=dry_run)
