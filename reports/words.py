"""Counted nouns in English: "1 day", "2 days", "1,234 readings" (issue 11: plurals everywhere).

One helper for every count the site and its progress lines print, so no template writes a
plural by hand ("1 days", "1 minutes").
"""

from __future__ import annotations


def plural_noun(count: float, singular: str, plural: str | None = None) -> str:
    """The noun for ``count``: singular for exactly 1 (and -1), the plural otherwise (0 days).

    ``plural`` for irregular nouns; otherwise English's regular rules (day/days, entry/entries,
    box/boxes)."""
    if abs(count) == 1:
        return singular
    if plural is not None:
        return plural
    if singular.endswith(("s", "x", "ch", "sh")):
        return singular + "es"
    if singular.endswith("y") and singular[-2:-1] not in "aeiou":
        return singular[:-1] + "ies"
    return singular + "s"


def plural(count: float | None, singular: str, plural: str | None = None) -> str:
    """``count`` with its noun: "1 day", "2 days", "1,234 readings", "1.5 hours"; "—" for None."""
    if count is None:
        return "—"
    shown = f"{count:,}" if isinstance(count, int) else f"{count:,.1f}".removesuffix(".0")
    # the noun agrees with the number as shown: 1.04 hours is shown as "1 hour"
    return f"{shown} {plural_noun(float(shown.replace(',', '')), singular, plural)}"
