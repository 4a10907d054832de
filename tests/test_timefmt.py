"""Issue 11: one formatting of times for people (lnhm/timefmt.py), shared by the site and the
e-mails: the museum's wall clock (LNHM_TIMEZONE) with the zone's abbreviation.

Expected texts are written out by hand from the calendar (1 July 2026 and 14 January 2026 are
Wednesdays; the UK keeps BST, UTC+1, from 29 March to 25 October 2026; New York keeps EDT,
UTC-4, in July and EST, UTC-5, in January)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from alerts.messages import fmt_when
from lnhm.timefmt import format_local, format_local_and_utc
from reports.build import make_env

REPO = Path(__file__).resolve().parents[1]
LONDON, NEW_YORK = ZoneInfo("Europe/London"), ZoneInfo("America/New_York")
SUMMER, WINTER = datetime(2026, 7, 1, 13, 0), datetime(2026, 1, 14, 13, 0)  # naive UTC


@pytest.mark.parametrize(
    ("value", "tz", "style", "expected"),
    [
        (SUMMER, LONDON, "long", "Wed 01 Jul 2026 14:00 BST"),
        (WINTER, LONDON, "long", "Wed 14 Jan 2026 13:00 GMT"),
        (SUMMER, NEW_YORK, "long", "Wed 01 Jul 2026 09:00 EDT"),
        (WINTER, NEW_YORK, "long", "Wed 14 Jan 2026 08:00 EST"),
        (SUMMER, LONDON, "day", "Wed 14:00 BST"),
        (WINTER, LONDON, "short", "13:00"),
        # an aware value is the same instant
        (
            SUMMER.replace(tzinfo=UTC) + timedelta(hours=2),
            LONDON,
            "long",
            "Wed 01 Jul 2026 16:00 BST",
        ),
        (
            datetime(2026, 7, 1, 15, 0, tzinfo=timezone(timedelta(hours=2))),
            LONDON,
            "short",
            "14:00",
        ),
        # the night the clocks go back: 00:30 UTC is 01:30 BST, 01:30 UTC is 01:30 GMT
        (datetime(2026, 10, 25, 0, 30), LONDON, "long", "Sun 25 Oct 2026 01:30 BST"),
        (datetime(2026, 10, 25, 1, 30), LONDON, "long", "Sun 25 Oct 2026 01:30 GMT"),
    ],
)
def test_format_local(value, tz, style, expected):
    assert format_local(value, tz, style) == expected


@pytest.mark.parametrize(
    ("value", "tz", "expected"),
    [
        (SUMMER, LONDON, "Wed 01 Jul 2026 14:00 BST (13:00 UTC)"),
        (WINTER, LONDON, "Wed 14 Jan 2026 13:00 GMT (13:00 UTC)"),
        (datetime(2026, 6, 30, 23, 30), LONDON, "Wed 01 Jul 2026 00:30 BST (Tue 23:30 UTC)"),
        (datetime(2026, 1, 15, 2, 0), NEW_YORK, "Wed 14 Jan 2026 21:00 EST (Thu 02:00 UTC)"),
        (SUMMER, UTC, "Wed 01 Jul 2026 13:00 UTC"),  # a museum on UTC: written once
    ],
)
def test_the_mails_form_has_utc_beside_the_local_time(value, tz, expected):
    assert format_local_and_utc(value, tz) == expected
    assert fmt_when(value, tz) == expected  # alerts/messages.py's helper is this one
    assert fmt_when(None, tz) == "unknown"


def test_the_site_and_the_mails_show_the_same_wall_clock():
    env = make_env("x@example.org", SUMMER, LONDON)
    shown = env.from_string("{{ t | when }}|{{ t | when('day') }}").render(t=SUMMER)
    assert shown == (
        '<time datetime="2026-07-01T13:00:00Z" data-utc="2026-07-01T13:00:00Z">'
        "Wed 01 Jul 2026 14:00 BST</time>|"
        '<time datetime="2026-07-01T13:00:00Z" data-utc="2026-07-01T13:00:00Z">'
        "Wed 14:00 BST</time>"
    )
    assert fmt_when(SUMMER, LONDON).startswith("Wed 01 Jul 2026 14:00 BST")


def test_no_module_writes_a_time_for_people_by_hand():
    """Times for people go through lnhm/timefmt.py: no strftime with a zone or a literal UTC
    in the product code of the site and the e-mails (the helper is the one place)."""
    by_hand = re.compile(r"%H:%M[^\"']*(UTC|GMT|%Z)")
    offenders = []
    for folder in ("alerts", "reports"):
        for path in sorted((REPO / folder).rglob("*")):
            if path.suffix not in (".py", ".j2", ".html") or not path.is_file():
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if by_hand.search(line):
                    offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_minute_pages_styles():
    assert format_local(SUMMER, LONDON, "clock") == "14:00 BST"
    assert format_local(WINTER, LONDON, "day_month") == "Wed 14 Jan 13:00 GMT"
