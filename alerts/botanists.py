"""Botanist alerts: one message per incident, a recovery when it ends, and a daily digest.

Incidents come from the marts: every open row of ``marts.anomalies`` (moisture or temperature
out of range, far from baseline, no reading, repeated sensor faults) and every plant of
``marts.plant_status`` not watered for more than ``LNHM_ALERT_WATERING_HOURS``. Each goes to
the plant's botanist; when the botanist's address is missing or invalid it goes to the
operator instead, saying so.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from alerts.dispatch import Incident, Outgoing, deliver, plan
from alerts.messages import one_line, problem_label, render
from alerts.store import Store, session
from lnhm.locking import writer_lock
from lnhm.settings import AlertConfig, Settings

STATUS_SQL = (
    "select plant_id, plant_name, botanist_id, botanist_name, botanist_email,"
    " latest_recorded_at, minutes_since_reading, soil_moisture_pct, temperature_c,"
    " last_watered_at, hours_since_watered, is_missing, is_on_loan, is_sensor_faulting, status"
    " from marts.plant_status order by plant_id"
)
ANOMALY_SQL = (
    "select anomaly_id, plant_id, kind, started_at, ended_at, is_open, worst_value, readings"
    " from marts.anomalies order by plant_id, started_at"
)
EMAIL_RE = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def hot_store_missing(settings: Settings) -> bool:
    """The embedded DuckDB file does not exist yet (nothing ingested): nothing to alert on."""
    return settings.warehouse == "duckdb" and not settings.duckdb_path.exists()


def marts_ready(store: Store) -> bool:
    return store.has_table("marts", "plant_status") and store.has_table("marts", "anomalies")


class Marts:
    """What the alerts read from the marts, loaded once per run."""

    def __init__(self, store: Store):
        self.statuses = {row["plant_id"]: row for row in store.rows(STATUS_SQL)}
        self.anomalies = store.rows(ANOMALY_SQL)
        self.valid_email: dict = {}
        if store.has_table("marts", "dim_botanists"):
            for row in store.rows("select botanist_id, is_email_valid from marts.dim_botanists"):
                self.valid_email[row["botanist_id"]] = row["is_email_valid"]

    def anomaly(self, anomaly_id: str) -> dict | None:
        return next((a for a in self.anomalies if str(a["anomaly_id"]) == anomaly_id), None)

    def botanist_address(self, status: dict | None) -> str | None:
        """The botanist's address if it is usable, else None."""
        if not status or not status.get("botanist_email"):
            return None
        email = str(status["botanist_email"]).strip()
        flagged = self.valid_email.get(status.get("botanist_id"))
        if flagged is False or not EMAIL_RE.match(email):
            return None
        return email

    def feed_down(self) -> bool:
        """Every plant that is not on loan is missing: our feed is down, not the plants."""
        watched = [s for s in self.statuses.values() if not s.get("is_on_loan")]
        return bool(watched) and all(s.get("is_missing") for s in watched)


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


def current_incidents(settings: Settings, cfg: AlertConfig, marts: Marts) -> list[Incident]:
    feed_down = marts.feed_down()
    incidents: list[Incident] = []
    for anomaly in marts.anomalies:
        if not anomaly["is_open"]:
            continue
        plant_id = anomaly["plant_id"]
        status = marts.statuses.get(plant_id) or {}
        recipient, rerouted = _route(settings, marts, plant_id)
        hold = anomaly["kind"] == "no_reading" and (feed_down or bool(status.get("is_on_loan")))
        incidents.append(
            Incident(
                alert_key=f"anomaly:{anomaly['anomaly_id']}",
                match_key=f"plant:{plant_id}:{anomaly['kind']}",
                audience="botanist",
                recipient=recipient,
                hold=hold,
                details={
                    "plant_id": plant_id,
                    "plant_name": status.get("plant_name"),
                    "kind": anomaly["kind"],
                    "anomaly_id": str(anomaly["anomaly_id"]),
                    "started_at": anomaly["started_at"],
                    "worst_value": anomaly["worst_value"],
                    "readings": anomaly["readings"],
                    "rerouted": rerouted,
                },
            )
        )
    for plant_id, status in marts.statuses.items():
        hours = status.get("hours_since_watered")
        if hours is None or hours <= cfg.watering_hours:
            continue
        if status.get("is_on_loan") or status.get("is_missing"):
            continue
        watered = status.get("last_watered_at")
        since = watered + timedelta(hours=cfg.watering_hours) if watered else None
        recipient, rerouted = _route(settings, marts, plant_id)
        incidents.append(
            Incident(
                alert_key=f"not_watered:{plant_id}:{watered:%Y%m%dT%H%M%S}"
                if watered
                else f"not_watered:{plant_id}:never",
                match_key=f"plant:{plant_id}:not_watered",
                audience="botanist",
                recipient=recipient,
                details={
                    "plant_id": plant_id,
                    "plant_name": status.get("plant_name"),
                    "kind": "not_watered",
                    "started_at": since,
                    "worst_value": hours,
                    "last_watered_at": watered,
                    "rerouted": rerouted,
                },
            )
        )
    incidents.sort(key=lambda i: (i.details["plant_id"] or 0, i.details["kind"]))
    return incidents


def _plant_title(details: dict) -> str:
    name = details.get("plant_name") or "unnamed plant"
    return f"{name} (plant {details.get('plant_id')})"


def problem_message(
    settings: Settings, cfg: AlertConfig, marts: Marts, incident: Incident
) -> Outgoing:
    d = incident.details
    status = marts.statuses.get(d["plant_id"])
    subject = f"[LNHM] {problem_label(d['kind'])}: {_plant_title(d)}"
    context = {
        "message_kind": "problem",
        "incident": d,
        "status": status,
        "botanist_name": (status or {}).get("botanist_name"),
        "ended_at": None,
        "watering_hours": cfg.watering_hours,
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


def recovery_message(settings: Settings, cfg: AlertConfig, marts: Marts, row: dict) -> Outgoing:
    d = dict(row["details"])
    status = marts.statuses.get(d.get("plant_id"))
    ended_at = None
    if d.get("anomaly_id"):
        anomaly = marts.anomaly(d["anomaly_id"])
        if anomaly:
            ended_at = anomaly["ended_at"]
            d["worst_value"] = anomaly["worst_value"]
            d["readings"] = anomaly["readings"]
    recipient, rerouted = _route(settings, marts, d.get("plant_id"))
    if recipient == settings.operator_email and rerouted and row["recipient"]:
        recipient = row["recipient"]
    d["rerouted"] = rerouted if recipient == settings.operator_email else None
    subject = f"[LNHM] Resolved: {problem_label(d.get('kind', ''))}: {_plant_title(d)}"
    context = {
        "message_kind": "recovery",
        "incident": d,
        "status": status,
        "botanist_name": (status or {}).get("botanist_name"),
        "ended_at": ended_at,
        "watering_hours": cfg.watering_hours,
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


def run_alerts(settings: Settings, cfg: AlertConfig, counts: dict, dry_run: bool = False) -> None:
    """``python -m alerts``: announce new incidents and recoveries, each exactly once."""
    if hot_store_missing(settings):
        counts["note"] = f"{settings.duckdb_path} does not exist yet"
        return
    with writer_lock(settings, name="alerts.job", job="alerts"):
        with session(settings, job="alerts") as store:
            if not marts_ready(store):
                counts["note"] = "marts.plant_status / marts.anomalies not built yet"
                return
            store.ensure_alert_tables()
            marts = Marts(store)
            open_rows = store.open_incidents("botanist")
            sent_problems = store.sent_keys("problem")
        current = current_incidents(settings, cfg, marts)
        new, ended = plan(current, open_rows, sent_problems)
        counts.update(
            plants=len(marts.statuses),
            open_incidents=len(current),
            held=sum(1 for i in current if i.hold),
        )
        outgoing = [problem_message(settings, cfg, marts, i) for i in new]
        outgoing += [recovery_message(settings, cfg, marts, row) for row in ended]
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
                counts["note"] = "marts.plant_status / marts.anomalies not built yet"
                return
            store.ensure_alert_tables()
            marts = Marts(store)
            sent = store.sent_keys("digest")
        incidents = current_incidents(settings, cfg, marts)
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
                    for a in marts.anomalies
                    if a["plant_id"] in ids
                    and not a["is_open"]
                    and a["ended_at"] is not None
                    and a["ended_at"] >= since
                ],
                "watering_hours": cfg.watering_hours,
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
