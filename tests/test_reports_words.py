"""Issue 11: plural rules everywhere on the site ("1 day", "1 minute", "2 days")."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from reports.build import make_env
from reports.words import plural, plural_noun

REPORTS = Path(__file__).resolve().parents[1] / "reports"


@pytest.mark.parametrize(
    ("count", "noun", "expected"),
    [
        (1, "day", "1 day"),
        (2, "day", "2 days"),
        (0, "day", "0 days"),
        (1, "minute", "1 minute"),
        (59, "minute", "59 minutes"),
        (1_234, "reading", "1,234 readings"),
        (1.0, "hour", "1 hour"),
        (1.04, "hour", "1 hour"),  # shown as 1, so singular
        (1.5, "hour", "1.5 hours"),
        (3, "entry", "3 entries"),
        (2, "day", "2 days"),
        (2, "box", "2 boxes"),
        (None, "day", "—"),
    ],
)
def test_a_count_takes_the_singular_only_when_it_is_one(count, noun, expected):
    assert plural(count, noun) == expected


def test_an_irregular_plural_is_given_by_the_caller():
    assert plural(2, "child", "children") == "2 children"
    assert plural(1, "child", "children") == "1 child"
    assert plural_noun(1, "reading") == "reading"
    assert plural_noun(7, "reading") == "readings"


def test_templates_use_the_filter():
    env = make_env("x@example.org", datetime(2026, 12, 3, 12, 0))
    text = env.from_string(
        '{{ 1 | plural("day") }}; {{ 2 | plural("day") }}; {{ 1 | plural("minute") }}; '
        '{{ 1 }} {{ 1 | noun("reading") }}'
    ).render()
    assert text == "1 day; 2 days; 1 minute; 1 reading"


# A number printed straight before a plural noun ("{{ n }} days", f"{n} days") is what printed
# "1 days" and "1 minutes"; every count goes through reports/words.py instead.
HARD_CODED = re.compile(
    r"(\}\}|\})(</span>)?\s+(days|hours|minutes|readings|plants|incidents|charts|pages|"
    r"botanists|requests|files|waterings)\b"
)


def test_no_template_or_module_prints_a_count_with_a_hard_coded_plural():
    found = []
    for path in [*REPORTS.glob("templates/*.html"), *REPORTS.glob("*.py")]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if HARD_CODED.search(line):
                found.append(f"{path.name}:{number}: {line.strip()[:120]}")
    assert found == []
