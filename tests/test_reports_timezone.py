"""Issue 11, "Reading the site": times in the museum's zone (LNHM_TIMEZONE, default
Europe/London), GMT or BST shown, UTC kept in the page's data attributes.

A short real chain (tests/chain.py: backfill of 1 hour of 2 plants, dbt build, reports) ending at
13:00 UTC on a summer day and on a winter day; the plant page is read in headless Chromium. The
expected texts are written out by hand from the calendar (1 July 2026 and 14 January 2026 are
Wednesdays; the UK is on BST, UTC+1, from 29 March to 25 October 2026), not computed by the code.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.chain import build_chain
from tests.test_reports import run_reports

PLANT = 1


def shown_times(chromium, page) -> dict[str, tuple[str, str]]:
    """Every time on the plant page by its data-metric: (text shown, UTC data attribute)."""
    from selenium.webdriver.common.by import By

    chromium.get(page.as_uri())
    found = {}
    for cell in chromium.find_elements(By.CSS_SELECTOR, "[data-metric] time"):
        metric = cell.find_element(By.XPATH, "ancestor::*[@data-metric][1]")
        found[metric.get_attribute("data-metric")] = (
            cell.text,
            cell.get_attribute("data-utc"),
        )
    return found


@pytest.mark.parametrize(
    ("end", "shown", "utc"),
    [
        (datetime(2026, 7, 1, 13, 0, tzinfo=UTC), "Wed 01 Jul 2026 14:00 BST", "2026-07-01T13:00"),
        (datetime(2026, 1, 14, 13, 0, tzinfo=UTC), "Wed 14 Jan 2026 13:00 GMT", "2026-01-14T13:00"),
    ],
    ids=["summer-bst", "winter-gmt"],
)
def test_plant_page_shows_the_museums_wall_clock_with_utc_in_data_attributes(
    tmp_path, chromium, end, shown, utc
):
    chain = build_chain(tmp_path, plants=2, hours=1, end=end, archive=False)
    page = chain.site / "plants" / f"{PLANT}.html"
    times = shown_times(chromium, page)
    text, data_utc = times["latest-recorded-at"]
    assert text == shown
    # the reading's own second is kept in the attribute (UTC, ISO 8601 with Z)
    assert data_utc.startswith(utc + ":") and data_utc.endswith("Z"), data_utc
    from selenium.webdriver.common.by import By

    assert f"Readings up to {shown}" in chromium.find_element(By.TAG_NAME, "body").text
    html = page.read_text(encoding="utf-8")
    assert f"over the 24 hours to {shown}" in html  # the chart's accessible name
    assert " UTC</time>" not in html and shown[-3:] + "</time>" in html

    # another zone, on the same warehouse: New York is UTC-4 in July and UTC-5 in January
    elsewhere = run_reports(
        {
            "LNHM_DUCKDB_PATH": chain.env["LNHM_DUCKDB_PATH"],
            "LNHM_ARCHIVE_URL": chain.env["LNHM_ARCHIVE_URL"],
            "LNHM_REPORTS_DIR": str(tmp_path / "ny"),
            "LNHM_TIMEZONE": "America/New_York",
        }
    )
    assert elsewhere.returncode == 0
    ny = shown_times(chromium, tmp_path / "ny" / "current" / "plants" / f"{PLANT}.html")
    expected = {7: "Wed 01 Jul 2026 09:00 EDT", 1: "Wed 14 Jan 2026 08:00 EST"}[end.month]
    assert ny["latest-recorded-at"] == (expected, data_utc)


def test_an_unknown_time_zone_is_a_one_line_configuration_error():
    result = run_reports({"LNHM_TIMEZONE": "Europe/Atlantis"}, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "LNHM_TIMEZONE" in result.stderr and "Europe/Atlantis" in result.stderr


def test_the_day_charts_hour_ticks_fall_on_the_museums_clock():
    """A 24-hour window ending 1 July 13:00 UTC (14:00 BST): ticks every 3 hours of BST, the
    first at 15:00 BST = 14:00 UTC, labelled in BST; in January the grid is UTC's."""
    from zoneinfo import ZoneInfo

    from reports import svg

    london = ZoneInfo("Europe/London")
    for end, first_utc in ((datetime(2026, 7, 1, 13), 14), (datetime(2026, 1, 14, 13), 15)):
        start = end - timedelta(hours=24)
        ticks, fmt = svg.time_ticks(svg._t(start), svg._t(end), london)
        labels = [svg._tick_label(t, fmt, london) for t in ticks]
        assert labels == ["15:00", "18:00", "21:00", "00:00", "03:00", "06:00", "09:00", "12:00"]
        assert svg._dt(ticks[0]) == start.replace(hour=first_utc)
