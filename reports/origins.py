"""The origin pages: one per continent and per country the plants come from, and an index.

Every figure is a column of rpt_origins / rpt_origin_plants / rpt_origin_days (dbt); this module
only groups the rows by page. Keys such as ``country-us`` and ``continent-north-america`` are
dbt's too (``rpt_origins.origin_key``), so a page's file name is ``origins/<origin_key>.html``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

MARTS = {
    "origins": "rpt_origins",
    "origin_plants": "rpt_origin_plants",
    "origin_days": "rpt_origin_days",
}


def recent_days(origins: list[dict]) -> int | None:
    """How many UTC days the recent figures cover (the window dbt used, origin_recent_days)."""
    row = next((o for o in origins if o["recent_first_day"] is not None), None)
    if row is None:
        return None
    return (row["recent_last_day"] - row["recent_first_day"]).days + 1


def pages(origins: list[dict], origin_plants: list[dict], origin_days: list[dict]) -> list[tuple]:
    """(path, template, context) of every origin page and the index, in the order to write."""
    plants_of: dict[str, list[dict]] = defaultdict(list)
    for plant in origin_plants:  # already most urgent first
        plants_of[plant["origin_key"]].append(plant)
    days_of: dict[str, dict[tuple[int, date], dict]] = defaultdict(dict)
    for row in origin_days:
        days_of[row["origin_key"]][(row["plant_id"], row["day"])] = row
    n_days = recent_days(origins)
    out = []
    for origin in origins:
        key = origin["origin_key"]
        day_list = sorted({day for _, day in days_of[key]})
        out.append(
            (
                f"origins/{key}.html",
                "origin.html",
                {
                    "subject": f"the origin page of {origin['origin_name']}",
                    "origin": origin,
                    "plants": plants_of[key],
                    "days": days_of[key],
                    "day_list": day_list,
                    "recent_days": n_days,
                },
            )
        )
    continents = [o for o in origins if o["origin_kind"] == "continent"]
    countries: dict[str, list[dict]] = defaultdict(list)
    for origin in origins:
        if origin["origin_kind"] == "country":
            countries[origin["continent_key"]].append(origin)
    first = next((o for o in origins if o["recent_first_day"] is not None), None)
    out.append(
        (
            "origins/index.html",
            "origins.html",
            {
                "subject": "the origins page",
                "continents": continents,
                "countries": dict(countries),
                "recent_days": n_days,
                "recent_first_day": first["recent_first_day"] if first else None,
                "recent_last_day": first["recent_last_day"] if first else None,
            },
        )
    )
    return out


def links(origin_plants: list[dict]) -> dict[int, dict[str, str]]:
    """Per plant, its origin pages by kind: {"country": "country-us", "continent": ...}."""
    out: dict[int, dict[str, str]] = defaultdict(dict)
    for row in origin_plants:
        out[row["plant_id"]][row["origin_kind"]] = row["origin_key"]
    return dict(out)
