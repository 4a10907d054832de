"""Botanist alerts: one message per incident, a recovery when it ends, and a daily digest.

Every rule is in dbt: incidents are the open rows of ``marts.incident_alerts`` (fct_incidents
with the seed incident_kinds' words and whether the alert is held), recoveries are looked up in
``marts.fct_incidents`` by ``incident_id``. This module only routes, formats and delivers. Each
plant incident goes to the plant's botanist; when the botanist's address is missing or invalid
it goes to the operator instead, saying so. Incidents of the operator's kinds (feed_down) go to
``LNHM_OPERATOR_EMAIL``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from alerts.dispatch import Incident, Outgoing, deliver, plan
from alerts.messages import fmt_when, one_line, render
from alerts.store import Store, session
from lnhm.locking import writer_lock
from lnhm.settings import AlertConfig, Settings

STATUS_SQL = (
    "select plant_id, plant_name, botanist_id, botanist_name, botanist_email,"
    " latest_recorded_at, minutes_since_reading, soil_moisture_pct, temperature_c,"
    " last_watered_at, hours_since_watered, dry_expected_at, is_missing, is_on_loan,"
    " is_sensor_faulting, status from marts.plant_status order by plant_id"
)
ALERTS_SQL = (
    "select incident_id, plant_id, kind, label, audience, started_at, worst_value, threshold,"
    " readings, is_held from marts.incident_alerts order by plant_id, kind, started_at"
)
KINDS_SQL = (
    "select code, label, severity, audience, advice, worst_value_label, worst_value_unit,"
    " worst_value_digits from marts.dim_incident_kinds"
)
INCIDENT_COLUMNS = (
    "incident_id, plant_id, kind, started_at, ended_at, is_open, worst_value, threshold, readings,"
    " last_seen_at, is_ended_by_gap"
)
WARNINGS_SQL = (
    "select warning_id, plant_id, last_watered_at, next_watering_at, dry_expected_at,"
    " hours_dry_before_watering, soil_moisture_pct, soil_moisture_pct_min"
    " from marts.early_warnings order by plant_id"
)
MARTS = ("plant_status", "incident_alerts", "fct_incidents", "dim_incident_kinds")
EMAIL_RE = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def hot_store_missing(settings: Settings) -> bool:
    """The embedded DuckDB file does not exist yet (nothing ingested): nothing to alert on."""
    return settings.warehouse == "duckdb" and not settings.duckdb_path.exists()


def marts_ready(store: Store) -> bool:
    return all(store.has_table("marts", name) for name in MARTS)


NOT_BUILT = "marts." + " / marts.".join(MARTS) + " not built yet"


class Marts:
    """What the alerts read from the marts, loaded once per run."""

    def __init__(self, store: Store, announced_ids: list[str] = ()):
        self.statuses = {row["plant_id"]: row for row in store.rows(STATUS_SQL)}
        self.alerts = store.rows(ALERTS_SQL)
        # optional: a warehouse upgraded but not rebuilt yet has no early_warnings table
        self.warnings = (
            store.rows(WARNINGS_SQL) if store.has_table("marts", "early_warnings") else []
        )
        self.kinds = {row["code"]: row for row in store.rows(KINDS_SQL)}
        self.incidents: dict[str, dict] = {}
        ids = sorted(set(announced_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join(["%s"] * len(chunk))
            for row in store.rows(
                f"select {INCIDENT_COLUMNS} from marts.fct_incidents"
                f" where incident_id in ({marks})",
                chunk,
            ):
                self.incidents[row["incident_id"]] = row
        self.valid_email: dict = {}
        if store.has_table("marts", "dim_botanists"):
            for row in store.rows("select botanist_id, is_email_valid from marts.dim_botanists"):
                self.valid_email[row["botanist_id"]] = row["is_email_valid"]

    def botanist_address(self, status: dict | None) -> str | None:
        """The botanist's address if it is usable, else None."""
        if not status or not status.get("botanist_email"):
            return None
        email = str(status["botanist_email"]).strip()
        flagged = self.valid_email.get(status.get("botanist_id"))
        if flagged is False or not EMAIL_RE.match(email):
            return None
        return email


def _route(settings: Settings, marts: Marts, plant_id) -> tuple[str, str | None]:
    """(recipient, why it is not the botanist or None)."""
    status = marts.statuses.get(plant_id)
    address = marts.botanist_address(status)
    if address:
        return address, None
    if not status:
        return settings.operator_email, f"plant {plant_id} has no row in marts.plant_status"
    shown = status.get("botanist_email") or "no address"
    name = status.get("botanist_name") or "the botanist"
    return settings.operator_email, f"{name}'s e-mail address ({shown}) is not usable"


def current_incidents(settings: Settings, marts: Marts) -> list[Incident]:
    """Every open incident of marts.incident_alerts, addressed."""
    incidents: list[Incident] = []
    for row in marts.alerts:
        plant_id = row["plant_id"]
        status = marts.statuses.get(plant_id) or {}
        if row["audience"] == "operator":
            recipient, rerouted = settings.operator_email, None
        else:
            recipient, rerouted = _route(settings, marts, plant_id)
        key = f"incident:{row['incident_id']}"
        incidents.append(
            Incident(
                alert_key=key,
                match_key=key,
                audience="botanist",  # this job's messages (the ops job keeps "operator")
                recipient=recipient,
                hold=bool(row["is_held"]),
                details={
                    "plant_id": plant_id,
                    "plant_name": status.get("plant_name"),
                    "kind": row["kind"],
                    "incident_id": str(row["incident_id"]),
                    "audience": row["audience"],
                    "started_at": row["started_at"],
                    "worst_value": row["worst_value"],
                    "threshold": row["threshold"],
                    "readings": row["readings"],
                    "last_watered_at": status.get("last_watered_at"),
                    "rerouted": rerouted,
                },
            )
        )
    return incidents


def page_url(settings: Settings, plant_id) -> str | None:
    """The plant's page on the published site (reports/build.py writes plants/<id>.html under
    current/), or None when LNHM_REPORTS_URL is not set."""
    if not settings.reports_url or plant_id is None:
        return None
    return f"{settings.reports_url}current/plants/{plant_id}.html"


def _plant_title(details: dict) -> str:
    name = details.get("plant_name") or "unnamed plant"
    return f"{name} (plant {details.get('plant_id')})"


def _label(marts: Marts, kind: str) -> str:
    row = marts.kinds.get(kind)
    return row["label"] if row else kind


def _operator_message(
    settings: Settings,
    marts: Marts,
    d: dict,
    message_kind: str,
    to: str,
    alert_key: str,
    ended_at: datetime | None = None,
) -> tuple[str, object]:
    """An incident of the operator's kinds (feed_down), in the operator's template."""
    kind = marts.kinds.get(d["kind"]) or {}
    title = _label(marts, d["kind"])
    if message_kind == "problem":
        subject = f"[LNHM ops] {title}"
        context = {
            "message_kind": "problem",
            "title": title,
            "summary": f"Since {fmt_when(d['started_at'], settings.timezone)}.",
            "action": kind.get("advice", ""),
            "facts": [("Incident", d["incident_id"])],
        }
    else:
        subject = f"[LNHM ops] Resolved: {title}"
        context = {
            "message_kind": "recovery",
            "title": title,
            "summary": "The incident has ended.",
            "announced_at": d["started_at"],
            "resolved_at": ended_at,
        }
    context["kinds"] = marts.kinds
    message = render(
        settings,
        "ops_alert",
        context,
        subject=subject,
        to=to,
        alert_key=alert_key,
        message_kind=message_kind,
    )
    return subject, message


def problem_message(settings: Settings, marts: Marts, incident: Incident) -> Outgoing:
    d = incident.details
    if d.get("audience") == "operator":
        _subject, message = _operator_message(
            settings, marts, d, "problem", incident.recipient, incident.alert_key
        )
    else:
        status = marts.statuses.get(d["plant_id"])
        subject = f"[LNHM] {_label(marts, d['kind'])}: {_plant_title(d)}"
        context = {
            "message_kind": "problem",
            "incident": d,
            "status": status,
            "botanist_name": (status or {}).get("botanist_name"),
            "ended_at": None,
            "kinds": marts.kinds,
            "page_url": page_url(settings, d["plant_id"]),
        }
        message = render(
            settings,
            "plant_alert",
            context,
            subject=subject,
            to=incident.recipient,
            alert_key=incident.alert_key,
            message_kind="problem",
        )
    return Outgoing(
        incident.alert_key,
        "problem",
        incident.match_key,
        incident.audience,
        incident.recipient,
        d,
        message,
    )


def recovery_message(settings: Settings, marts: Marts, row: dict) -> Outgoing:
    d = dict(row["details"])
    ended_at = None
    incident = marts.incidents.get(str(d.get("incident_id")))
    if incident:
        ended_at = incident["ended_at"]
        d["worst_value"] = incident["worst_value"]
        d["readings"] = incident["readings"]
        d["last_seen_at"] = incident["last_seen_at"]
        d["is_ended_by_gap"] = incident["is_ended_by_gap"]
    if d.get("audience") == "operator":
        _subject, message = _operator_message(
            settings, marts, d, "recovery", row["recipient"], row["alert_key"], ended_at
        )
        return Outgoing(
            row["alert_key"],
            "recovery",
            row["match_key"],
            "botanist",
            row["recipient"],
            d,
            message,
        )
    status = marts.statuses.get(d.get("plant_id"))
    recipient, rerouted = _route(settings, marts, d.get("plant_id"))
    if recipient == settings.operator_email and rerouted and row["recipient"]:
        recipient = row["recipient"]
    d["rerouted"] = rerouted if recipient == settings.operator_email else None
    # dbt says whether anyone saw the incident end, or its readings stopped while it lasted
    outcome = "Readings stopped" if d.get("is_ended_by_gap") else "Resolved"
    subject = f"[LNHM] {outcome}: {_label(marts, d.get('kind', ''))}: {_plant_title(d)}"
    context = {
        "message_kind": "recovery",
        "incident": d,
        "status": status,
        "botanist_name": (status or {}).get("botanist_name"),
        "ended_at": ended_at,
        "kinds": marts.kinds,
        "page_url": page_url(settings, d.get("plant_id")),
    }
    message = render(
        settings,
        "plant_alert",
        context,
        subject=subject,
        to=recipient,
        alert_key=row["alert_key"],
        message_kind="recovery",
    )
    return Outgoing(
        row["alert_key"], "recovery", row["match_key"], "botanist", recipient, d, message
    )


def warning_message(settings: Settings, marts: Marts, row: dict) -> Outgoing:
    """An early warning (marts.early_warnings): once per drying cycle, no recovery; the
    moisture_low incident, if it comes, is mailed as any other."""
    key = f"warning:{row['warning_id']}"
    status = marts.statuses.get(row["plant_id"]) or {}
    recipient, rerouted = _route(settings, marts, row["plant_id"])
    d = {**row, "plant_name": status.get("plant_name"), "rerouted": rerouted}
    subject = f"[LNHM] Will be dry before its watering: {_plant_title(d)}"
    context = {
        "warning": d,
        "status": status or None,
        "botanist_name": status.get("botanist_name"),
        "page_url": page_url(settings, row["plant_id"]),
    }
    message = render(
        settings,
        "plant_warning",
        context,
        subject=subject,
        to=recipient,
        alert_key=key,
        message_kind="warning",
    )
    return Outgoing(key, "warning", key, "botanist", recipient, d, message)


def run_alerts(settings: Settings, cfg: AlertConfig, counts: dict, dry_run: bool = False) -> None:
    """``python -m alerts``: announce new incidents and recoveries, each exactly once."""
    if hot_store_missing(settings):
        counts["note"] = f"{settings.duckdb_path} does not exist yet"
        return
    with writer_lock(settings, name="alerts.job", job="alerts"):
        with session(settings, job="alerts") as store:
            if not marts_ready(store):
                counts["note"] = NOT_BUILT
                return
            store.ensure_alert_tables()
            open_rows = store.open_incidents("botanist")
            sent_problems = store.sent_keys("problem")
            sent_warnings = store.sent_keys("warning")
            announced = [str(r["details"].get("incident_id")) for r in open_rows]
            marts = Marts(store, [i for i in announced if i != "None"])
        current = current_incidents(settings, marts)
        new, ended = plan(current, open_rows, sent_problems)
        counts.update(
            plants=len(marts.statuses),
            open_incidents=len(current),
            held=sum(1 for i in current if i.hold),
        )
        outgoing = [problem_message(settings, marts, i) for i in new]
        outgoing += [recovery_message(settings, marts, row) for row in ended]
        outgoing += [
            warning_message(settings, marts, row)
            for row in marts.warnings
            if f"warning:{row['warning_id']}" not in sent_warnings
        ]
        deliver(settings, outgoing, counts, job="alerts", dry_run=dry_run)


def run_digest(
    settings: Settings,
    cfg: AlertConfig,
    counts: dict,
    now: datetime | None = None,
    dry_run: bool = False,
) -> None:
    """``python -m alerts digest``: one summary per botanist per UTC day."""
    now = now or _now()
    since = now - timedelta(hours=24)
    if hot_store_missing(settings):
        counts["note"] = f"{settings.duckdb_path} does not exist yet"
        return
    with writer_lock(settings, name="alerts.job", job="alerts-digest"):
        with session(settings, job="alerts-digest") as store:
            if not marts_ready(store):
                counts["note"] = NOT_BUILT
                return
            store.ensure_alert_tables()
            marts = Marts(store)
            recent_rows = store.rows(
                f"select {INCIDENT_COLUMNS} from marts.fct_incidents"
                " where not is_open and plant_id is not null and ended_at >= %s"
                " order by plant_id, started_at",
                (since,),
            )
            sent = store.sent_keys("digest")
        incidents = current_incidents(settings, marts)
        by_botanist: dict[str, list[dict]] = defaultdict(list)
        skipped = 0
        for status in marts.statuses.values():
            address = marts.botanist_address(status)
            if address:
                by_botanist[address.lower()].append(status)
            elif status.get("botanist_email") or status.get("botanist_name"):
                skipped += 1
        outgoing = []
        for address, plants in sorted(by_botanist.items()):
            key = f"digest:{address}:{now:%Y-%m-%d}"
            if key in sent:
                continue
            ids = {p["plant_id"] for p in plants}
            context = {
                "botanist_name": plants[0].get("botanist_name"),
                "day": now,
                "since": since,
                "plants": sorted(plants, key=lambda p: p["plant_id"]),
                "open": [i.details for i in incidents if i.details["plant_id"] in ids],
                "recent": [
                    dict(a, plant_name=marts.statuses[a["plant_id"]].get("plant_name"))
                    for a in recent_rows
                    if a["plant_id"] in ids
                ],
                "kinds": marts.kinds,
            }
            name = one_line(plants[0].get("botanist_name") or address, 60)
            subject = f"[LNHM] Daily plant digest for {name}: {now:%a %d %b %Y}"
            message = render(
                settings,
                "digest",
                context,
                subject=subject,
                to=plants[0]["botanist_email"],
                alert_key=key,
                message_kind="digest",
            )
            outgoing.append(
                Outgoing(key, "digest", key, "botanist", address, {"plants": sorted(ids)}, message)
            )
        counts.update(botanists=len(by_botanist), plants_without_valid_botanist=skipped)
        deliver(settings, outgoing, counts, job="alerts-digest", dry_run=dry_run)
