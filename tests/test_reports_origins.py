"""The origin pages (issue 11) on the real chain (tests/chain.py), against what is known
without the marts: which plants come from which country the simulator's catalogue says
(`harness.simulator.catalogue`), the country's name and continent the seed `countries` says,
and every figure is recomputed from the raw rows and the archive's Parquet files with the
documented rules (tests/test_reports_numbers.py's `Truth`, not the marts)."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import date, timedelta

import pytest

from harness.simulator.catalogue import Catalogue
from tests.chain import PLANTS
from tests.test_reports_numbers import REPO, Checker, Truth, metrics, nums, stats, value_or_dash

RECENT_DAYS = 7  # var origin_recent_days


@pytest.fixture(scope="module")
def truth(chain) -> Truth:
    t = Truth(chain)
    assert t.archived_count > 0 and t.hot_count > 0
    return t


def seed_countries() -> dict[str, tuple[str, str]]:
    rows = csv.DictReader((REPO / "seeds" / "countries.csv").open(encoding="utf-8"))
    return {r["country_code"]: (r["country_name"], r["continent"]) for r in rows}


def catalogue_origins() -> dict[str, set[int]]:
    """Origin page file name -> the plants the catalogue gives that origin."""
    countries = seed_countries()
    catalogue = Catalogue(PLANTS)
    pages: dict[str, set[int]] = defaultdict(set)
    for pid in range(1, PLANTS + 1):
        code = catalogue.plant(pid).origin[3]
        continent = countries[code][1]
        pages[f"country-{code.lower()}"].add(pid)
        pages[f"continent-{continent.lower().replace(' ', '-')}"].add(pid)
    return dict(pages)


def recent(truth: Truth, pid: int) -> list:
    """The plant's readings of the recent UTC days (the clock's day and the 6 before it)."""
    last = truth.as_of.date()
    first = last - timedelta(days=RECENT_DAYS - 1)
    return [r for day, rows in truth.days(pid).items() if first <= day <= last for r in rows]


def mean(values: list) -> float | None:
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def test_a_page_per_country_and_continent_of_the_catalogue(chain):
    expected = catalogue_origins()
    # the chain's 6 plants come from 6 countries on 4 continents, 3 of them North American
    assert len([k for k in expected if k.startswith("country-")]) == PLANTS
    assert expected["continent-north-america"] == {1, 4, 6}
    written = {p.stem for p in (chain.site / "origins").glob("*.html")}
    assert written == set(expected) | {"index"}
    countries = seed_countries()
    for key, pids in expected.items():
        html = (chain.site / "origins" / f"{key}.html").read_text(encoding="utf-8")
        shown = {
            int(m.plant)
            for m in metrics(chain.site / "origins" / f"{key}.html")
            if m.name == "plant-recent-readings"
        }
        assert shown == pids, key
        if key.startswith("country-"):
            name, continent = countries[key.removeprefix("country-").upper()]
            assert f">{name} <small>country</small>" in html, key
            # a country page leads to its continent's page
            assert f'href="continent-{continent.lower().replace(" ", "-")}.html"' in html, key
        for pid in pids:  # and to its plants' pages
            assert f'href="../plants/{pid}.html"' in html, (key, pid)
    index = (chain.site / "origins" / "index.html").read_text(encoding="utf-8")
    assert set(re.findall(r'href="([a-z-]+)\.html"', index)) >= set(expected)


def test_origins_are_linked_from_the_overview_and_each_plant_page(chain):
    overview = (chain.site / "index.html").read_text(encoding="utf-8")
    assert 'href="origins/index.html"' in overview
    for key, pids in catalogue_origins().items():
        for pid in pids:
            page = (chain.site / "plants" / f"{pid}.html").read_text(encoding="utf-8")
            assert f'href="../origins/{key}.html"' in page, (pid, key)


def test_every_origin_figure_matches_raw_rows_and_parquet(chain, truth):
    check = Checker()
    expected = catalogue_origins()
    last = truth.as_of.date()
    window = {last - timedelta(days=d) for d in range(RECENT_DAYS)}
    badge = {
        pid: re.search(
            r'class="status status-(\w+)"', (chain.site / "plants" / f"{pid}.html").read_text()
        ).group(1)
        for pid in range(1, PLANTS + 1)
    }
    open_incidents = {
        int(m.plant): int(m.text)
        for m in metrics(chain.site / "index.html")
        if m.name == "open-incidents" and m.plant
    }
    assert set(open_incidents) == set(badge)
    shown_on_page: dict[tuple[str, str], str] = {}
    for key, pids in expected.items():
        page = chain.site / "origins" / f"{key}.html"
        everything = [r for pid in pids for r in recent(truth, pid)]
        latest = {pid: truth.latest(pid) for pid in pids}
        # the origin's values now: its plants reporting now (not missing, on loan or faulting)
        reporting = [p for p in pids if badge[p] in ("ok", "warning", "critical")]
        now_m = [latest[p].moisture for p in reporting]
        now_t = [latest[p].temperature for p in reporting]
        for m in metrics(page):
            where = f"{key} {m.name}" + (f" plant {m.plant}" if m.plant else "")
            where += f" {m.day}" if m.day else ""
            pid = int(m.plant) if m.plant else None
            rows = recent(truth, pid) if pid else everything
            if m.name == "origin-plants":
                check.eq(where, int(m.text), len(pids))
            elif m.name.startswith("origin-status-"):
                # statuses and incidents are dbt's rules (their own tests): the origin page
                # must agree with the plant pages' badges and the overview's counts
                status = m.name.removeprefix("origin-status-")
                check.eq(where, int(m.text), sum(badge[p] == status for p in pids))
            elif m.name == "origin-open-incidents":
                check.eq(where, int(m.text), sum(open_incidents[p] for p in pids))
            elif m.name == "origin-moisture-now":
                value_or_dash(check, where, m.text, mean(now_m))
            elif m.name == "origin-temperature-now":
                value_or_dash(check, where, m.text, mean(now_t))
            elif m.name in ("origin-moisture-now-range", "origin-temperature-now-range"):
                values = now_m if "moisture" in m.name else now_t
                check.eq(where, nums(m.text), [round(min(values), 1), round(max(values), 1)])
            elif m.name in ("origin-recent-moisture", "origin-recent-temperature"):
                field = "stat_moisture" if "moisture" in m.name else "stat_temperature"
                value_or_dash(check, where, m.text, mean([getattr(r, field) for r in rows]))
            elif m.name in ("origin-recent-moisture-range", "origin-recent-temperature-range"):
                field = "stat_moisture" if "moisture" in m.name else "stat_temperature"
                low, _, high = stats([getattr(r, field) for r in rows])
                check.eq(where, nums(m.text), [round(low, 1), round(high, 1)])
            elif m.name == "plant-moisture-now":
                value_or_dash(check, where, m.text, latest[pid].moisture)
            elif m.name == "plant-temperature-now":
                value_or_dash(check, where, m.text, latest[pid].temperature)
            elif m.name in ("plant-hours-since-watered", "plant-open-incidents"):
                continue  # as on the plant page, which tests/test_reports_numbers.py checks
            elif m.name == "plant-recent-readings":
                check.eq(where, int(m.text.replace(",", "")), len(rows))
            elif m.name in ("plant-recent-moisture", "plant-recent-temperature"):
                field = "stat_moisture" if "moisture" in m.name else "stat_temperature"
                low, avg, high = stats([getattr(r, field) for r in rows])
                shown_avg, shown_low, shown_high = nums(m.text)
                check.near(where + " avg", shown_avg, avg)
                check.near(where + " min", shown_low, low)
                check.near(where + " max", shown_high, high)
            elif m.name == "plant-recent-waterings":
                expected_w = sum(1 for w in truth.waterings(pid) if w.date() in window)
                check.eq(where, int(m.text), expected_w)
            elif m.name in ("day-avg_soil_moisture_pct", "day-avg_temperature_c"):
                field = "stat_moisture" if "moisture" in m.name else "stat_temperature"
                day_rows = truth.days(pid).get(date.fromisoformat(m.day), [])
                value_or_dash(check, where, m.text, mean([getattr(r, field) for r in day_rows]))
            else:
                check.eq(where, "a metric this test knows", m.name)
            if not m.plant and not m.day:
                shown_on_page[(key, m.name)] = m.text
    # the index's rows say what each origin's own page says
    index = (chain.site / "origins" / "index.html").read_text(encoding="utf-8")
    rows = re.findall(r'<tr data-origin="([a-z-]+)"[^>]*>(.*?)</tr>', index, re.S)
    assert {key for key, _ in rows} == set(expected)
    for key, row in rows:
        for name, text in re.findall(r'data-metric="([a-z-]+)">([^<]*)<', row):
            if name == "origin-attention":
                statuses = ("warning", "critical", "sensor_fault", "missing")
                total = sum(int(shown_on_page[(key, f"origin-status-{s}")]) for s in statuses)
                check.eq(f"index {key} {name}", int(text), total)
            else:
                page_text = shown_on_page[(key, name)]
                check.eq(f"index {key} {name}", nums(text), nums(page_text))
    check.done()
