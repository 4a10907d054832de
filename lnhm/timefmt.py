"""The one way times are written for people, on the site and in the e-mails: the museum's wall
clock (``LNHM_TIMEZONE``, default Europe/London) with the zone's abbreviation.

The warehouse keeps naive UTC (the marts' convention); this module turns such a value into
"Wed 01 Jul 2026 14:00 BST" (summer) or "Wed 14 Jan 2026 13:00 GMT" (winter). The e-mails add
the UTC time in parentheses ("... 14:00 BST (13:00 UTC)"), so an operator comparing with logs
does not have to convert; the site keeps UTC in its ``<time>`` elements' attributes instead.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

# the styles the site and the e-mails use
STYLES = {
    "long": "%a %d %b %Y %H:%M %Z",  # Wed 01 Jul 2026 14:00 BST
    "day": "%a %H:%M %Z",  # Wed 14:00 BST: a time within the next days (a forecast)
    "short": "%H:%M",  # 14:00: a chart's tick
    "stamp": "%Y-%m-%d %H:%M %Z",  # 2026-07-01 14:00 BST: the "report a problem" mail's body
    # an archived day's minute page (reports/archived.py): a reading's time, and a time on
    # another day of the same year
    "clock": "%H:%M %Z",  # 14:00 BST
    "day_month": "%a %d %b %H:%M %Z",  # Wed 01 Jul 14:00 BST
}


def as_utc(value: datetime) -> datetime:
    """A time as aware UTC: a naive value is UTC (the marts' convention)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def local_time(value: datetime, tz: tzinfo) -> datetime:
    """A mart's time (naive UTC, or aware) as wall-clock time in the museum's zone."""
    return as_utc(value).astimezone(tz)


def format_local(value: datetime, tz: tzinfo, style: str = "long") -> str:
    """``value`` on the museum's wall clock: "Wed 01 Jul 2026 14:00 BST" (style "long")."""
    return local_time(value, tz).strftime(STYLES[style])


def format_local_and_utc(value: datetime, tz: tzinfo) -> str:
    """The e-mails' form: "Wed 01 Jul 2026 14:00 BST (13:00 UTC)"; the UTC day is named too
    when it is another day ("Wed 01 Jul 2026 00:30 BST (Tue 23:30 UTC)"); a zone that is UTC
    itself is written once ("Wed 01 Jul 2026 13:00 UTC")."""
    local, utc = local_time(value, tz), as_utc(value)
    shown = local.strftime(STYLES["long"])
    if local.utcoffset() == utc.utcoffset() and local.strftime("%Z") == "UTC":
        return shown
    same_day = local.date() == utc.date()
    return f"{shown} ({utc.strftime('%H:%M' if same_day else '%a %H:%M')} UTC)"
