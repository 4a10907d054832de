"""From "what is wrong now" to "which messages to send", and sending them exactly once.

An incident has two keys:

- ``alert_key`` names this incident (``incident:<incident_id>`` of ``marts.fct_incidents``,
  ``ops:store_capacity:<time>``); ``alerts.sent_alerts`` is unique on (alert_key, message_kind),
  so each incident gets at most one problem message and one recovery message.
- ``match_key`` names the ongoing condition: the incident itself for plant incidents (their id
  is stable), ``ops:store_capacity`` for an operator check. While a problem with the same match
  key is announced and not yet recovered, a new incident for it sends nothing, and the recovery
  goes out when no current incident has that match key any more.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage

from alerts.delivery import ConnectError, DeliveryError, mailer
from alerts.store import session
from lnhm.joblog import JobFailed
from lnhm.locking import LockTimeout
from lnhm.settings import Settings

COUNT_NAMES = {
    "problem": "problems_sent",
    "recovery": "recoveries_sent",
    "digest": "digests_sent",
    "warning": "warnings_sent",
}


@dataclass
class Incident:
    alert_key: str
    match_key: str
    audience: str  # "botanist" | "operator"
    recipient: str
    details: dict = field(default_factory=dict)  # stored with the message, used for recovery
    hold: bool = False  # ongoing, but announce nothing new (e.g. the whole feed is down)


@dataclass
class Outgoing:
    alert_key: str
    message_kind: str  # "problem" | "recovery" | "digest"
    match_key: str
    audience: str
    recipient: str
    details: dict
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])


def plan(
    current: list[Incident], open_rows: list[dict], sent_problems: set[str]
) -> tuple[list[Incident], list[dict]]:
    """Return (incidents to announce, announced incidents that have ended)."""
    announced = {row["match_key"] for row in open_rows}
    new: list[Incident] = []
    seen: set[str] = set()
    for incident in current:
        if incident.match_key in seen:
            continue
        seen.add(incident.match_key)
        if incident.hold or incident.match_key in announced:
            continue
        if incident.alert_key in sent_problems:
            continue
        new.append(incident)
    ongoing = {incident.match_key for incident in current}
    ended = [row for row in open_rows if row["match_key"] not in ongoing]
    return new, ended


RECORD_ATTEMPTS = 3


def record(settings: Settings, out: Outgoing, sent_at: datetime, job: str) -> None:
    """Record a delivered message. The message is already out, so wait for a busy hot store
    longer than usual (``RECORD_ATTEMPTS`` lock timeouts) before giving up."""
    for attempt in range(1, RECORD_ATTEMPTS + 1):
        try:
            with session(settings, job=job) as store:
                store.record_sent(
                    alert_key=out.alert_key,
                    message_kind=out.message_kind,
                    match_key=out.match_key,
                    audience=out.audience,
                    recipient=out.recipient,
                    subject=out.subject,
                    details=out.details,
                    sent_at=sent_at,
                )
            return
        except LockTimeout as exc:
            if attempt == RECORD_ATTEMPTS:
                raise JobFailed(
                    f"{out.alert_key} ({out.message_kind}) was delivered but could not be "
                    f"recorded, so it may be sent again: {exc}"
                ) from None


def deliver(
    settings: Settings, outgoing: list[Outgoing], counts: dict, job: str, dry_run: bool = False
) -> None:
    """Send each message; record it in ``alerts.sent_alerts`` right after it was accepted.

    A message that fails is not recorded, so the next run tries it again. Raise ``JobFailed``
    if any message was not delivered. ``dry_run``: list the messages on stderr, send and record
    nothing.
    """
    if dry_run:
        for out in outgoing:
            print(
                f"would send {out.message_kind} to {out.recipient}: {out.subject}", file=sys.stderr
            )
        counts["would_send"] = len(outgoing)
        return
    counts.setdefault("sent", 0)
    failures: list[str] = []
    with mailer(settings) as post:
        for out in outgoing:
            try:
                post.send(out.message, f"{out.alert_key}-{out.message_kind}")
            except ConnectError as exc:
                counts["failed"] = len(outgoing) - counts["sent"]
                raise JobFailed(
                    f"{exc}; {counts['failed']} message(s) left for the next run"
                ) from None
            except DeliveryError as exc:
                failures.append(f"{out.recipient}: {exc}")
                continue
            record(settings, out, datetime.now(UTC), job)
            counts["sent"] += 1
            key = COUNT_NAMES.get(out.message_kind, f"{out.message_kind}_sent")
            counts[key] = counts.get(key, 0) + 1
    if failures:
        counts["failed"] = len(failures)
        raise JobFailed(
            f"{len(failures)} of {len(outgoing)} message(s) not delivered (first: {failures[0]}); "
            "they will be retried on the next run"
        )
