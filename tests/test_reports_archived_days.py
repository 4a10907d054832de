"""Archived days on the site (issue 11): each day's readings as CSV and Parquet downloads from
the archive page, and a minute page per plant and archived day linked from the plant page, on
the real chain (tests/chain.py, two archived days). What is known without the site's code: the
archive's manifest (each day's count and checksum, archive/README.md) and the raw readings of
the archive's Parquet files (tests/test_reports_numbers.py's `Truth`)."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.test_reports_numbers import Truth, when

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
CHECKSUM = "sum(md5_number_lower(concat_ws('|', plant_id, recording_taken)))::varchar"


@pytest.fixture(scope="module")
def truth(chain) -> Truth:
    t = Truth(chain)
    assert t.archived_count > 0
    return t


def count_and_checksum(con, relation: str) -> tuple[int, str]:
    return con.execute(f"select count(*), {CHECKSUM} from {relation}").fetchone()


def test_every_archived_day_downloads_as_csv_and_parquet_with_the_archived_rows(chain):
    manifest = chain.manifest()["days"]
    assert len(manifest) >= 2
    archive_page = (chain.site / "archive.html").read_text(encoding="utf-8")
    con = duckdb.connect()
    for day, entry in manifest.items():
        csv_rel, parquet_rel = (f"downloads/readings-{day}.{ext}" for ext in ("csv", "parquet"))
        # the archive page's row for the day links both, and they are in the site
        row = re.search(rf'<tr data-day="{day}">(.*?)</tr>', archive_page, re.S).group(1)
        assert f'href="{csv_rel}" data-download="csv"' in row
        assert f'href="{parquet_rel}" data-download="parquet"' in row
        csv_path, parquet_path = chain.site / csv_rel, chain.site / parquet_rel
        expected = (entry["readings"], entry["readings_checksum"])
        # the CSV's rows are the day's archived rows: the manifest's count and checksum
        csv = f"read_csv('{csv_path}', header = true, all_varchar = true)"
        assert count_and_checksum(con, csv) == expected, day
        parquet = f"read_parquet('{parquet_path}')"
        assert count_and_checksum(con, parquet) == expected, day
        # times are UTC instants: ISO 8601 with Z in the CSV, the recording time as sent
        times = con.execute(
            f"select recorded_at_utc, recording_taken, fetched_at_utc, last_watered_at_utc "
            f"from {csv}"
        ).fetchall()
        for recorded, sent, fetched, watered in times:
            assert ISO_UTC.fullmatch(fetched), fetched
            assert watered is None or ISO_UTC.fullmatch(watered), watered
            if recorded is not None:
                assert ISO_UTC.fullmatch(recorded), recorded
                assert recorded.startswith(day)  # the archive's day is the UTC recording day
                assert recorded == sent.replace(" ", "T") + "Z"  # the simulator sends UTC
        types = {c[0]: c[1] for c in con.execute(f"describe select * from {parquet}").fetchall()}
        assert types["recorded_at_utc"] == "TIMESTAMP WITH TIME ZONE"
        assert types["fetched_at_utc"] == "TIMESTAMP WITH TIME ZONE"


def run_reports(chain, out: Path) -> str:
    return chain.run("reports", LNHM_REPORTS_DIR=str(out)).stderr


def test_a_new_build_writes_only_new_days_and_links_the_others(chain):
    """The cost per build grows with new days only: a second build links the first one's files
    (same inode: not rewritten); a day the build before does not have is written."""
    out = chain.base / "site-rebuilt"
    shutil.rmtree(out, ignore_errors=True)
    days = sorted(chain.manifest()["days"])
    first = run_reports(chain, out)
    assert f"archived days: {len(days)} new written from the archive, 0 linked" in first
    site1 = (out / "current").resolve()
    files = [f"downloads/readings-{d}.{ext}" for d in days for ext in ("csv", "parquet")]
    files += [str(p.relative_to(site1)) for p in site1.glob("plants/*/*.html")]
    assert len(files) > 2 * len(days)
    second = run_reports(chain, out)
    assert f"archived days: 0 new written from the archive, {len(days)} linked" in second
    site2 = (out / "current").resolve()
    assert site2 != site1
    for rel in files:
        assert os.stat(site1 / rel).st_ino == os.stat(site2 / rel).st_ino, rel
    # a day missing from the build before (as a day archived since) is the only one written
    index = json.loads((site2 / "downloads/index.json").read_text())
    del index[days[-1]]
    (site2 / "downloads/index.json").write_text(json.dumps(index))
    third = run_reports(chain, out)
    assert f"archived days: 1 new written from the archive, {len(days) - 1} linked" in third
    site3 = (out / "current").resolve()
    for rel in files:
        same = os.stat(site2 / rel).st_ino == os.stat(site3 / rel).st_ino
        assert same == (days[-1] not in rel), rel
        assert (site3 / rel).read_bytes() == (site2 / rel).read_bytes() or rel.endswith(".html")


def test_a_minute_page_per_plant_and_archived_day_shows_every_archived_reading(chain, truth):
    archived_days = {date.fromisoformat(d) for d in chain.manifest()["days"]}
    pages = 0
    for pid in sorted(truth.plant_ids()):
        plant_page = (chain.site / "plants" / f"{pid}.html").read_text(encoding="utf-8")
        linked = set(re.findall(rf'href="{pid}/([\d-]+)\.html" data-minutes', plant_page))
        readings = [r for r in truth.by_plant[pid] if r.tier == "archive" and r.recorded_at]
        days = {r.recorded_at.date() for r in readings} & archived_days
        # the plant page's history table links each archived day the plant has readings on
        assert linked == {d.isoformat() for d in days}, pid
        for day in days:
            page = chain.site / "plants" / str(pid) / f"{day}.html"
            html = page.read_text(encoding="utf-8")
            table = html.split('<table class="minutes">', 1)[1].split("</table>", 1)[0]
            rows = re.findall(r"<tr><td>(.*?)</td><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td>", table)
            expected = [r for r in readings if r.recorded_at.date() == day]
            assert len(rows) == len(expected), (pid, day)
            # each row's time: the UTC instant in data-utc, the museum's clock (GMT) as text
            shown_utc = Counter(re.search(r'data-utc="([^"]+)"', t).group(1) for t, _, _ in rows)
            assert shown_utc == Counter(
                r.recorded_at.strftime("%Y-%m-%dT%H:%M:%SZ") for r in expected
            )
            shown_text = Counter(re.sub(r"<[^>]+>", "", t) for t, _, _ in rows)
            assert shown_text == Counter(
                " ".join(when(r.recorded_at).split()[4:]) for r in expected
            )
            # the values as reported (one decimal place), out of range ones included
            shown_values = Counter((m, t) for _, m, t in rows)
            assert shown_values == Counter(
                (fmt(r.moisture), fmt(r.temperature)) for r in expected
            ), (pid, day)
            assert f'href="../../downloads/readings-{day}.csv"' in html
            assert "<svg" in html and "http-equiv" not in html  # a chart; a page that stays
            pages += 1
    assert pages >= 2 * len(truth.plant_ids() - {7})  # 6 plants, 2 archived days


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def test_a_build_writes_at_most_a_few_new_days_newest_first_and_the_next_build_the_rest(
    chain, tmp_path, monkeypatch
):
    """A first build over a long archive does not take an hour: each build writes
    NEW_DAYS_PER_BUILD days (newest first), links what it has, and the next build goes on."""
    from lnhm import settings as lnhm_settings
    from reports import archived

    for name, value in chain.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(archived, "NEW_DAYS_PER_BUILD", 1)
    settings = lnhm_settings.load()
    entries = [{**e, "day": date.fromisoformat(d)} for d, e in chain.manifest()["days"].items()]
    days = sorted(e["day"].isoformat() for e in entries)
    written = []

    def page(rel, pid, day, rows, downloads):
        written.append((pid, day))
        (build / rel).parent.mkdir(parents=True, exist_ok=True)
        (build / rel).write_text(f"{pid} {day} {len(rows)}")

    build = tmp_path / "one"
    first = archived.write_days(settings, entries, None, {}, build, page, print)
    assert (first["new_days"], first["waiting_days"]) == (1, len(days) - 1)
    assert sorted(first["days"]) == days[-1:]  # the newest day first
    assert {day.isoformat() for _, day in written} == {days[-1]}
    index = json.loads((build / "downloads/index.json").read_text())
    before, build = build, tmp_path / "two"
    written.clear()
    second = archived.write_days(settings, entries, before, index, build, page, print)
    assert (second["new_days"], second["waiting_days"]) == (1, len(days) - 2)
    assert sorted(second["days"]) == days[-2:]
    assert {day.isoformat() for _, day in written} == {days[-2]}  # the other one is linked
    assert (build / f"downloads/readings-{days[-1]}.csv").stat().st_ino == (
        before / f"downloads/readings-{days[-1]}.csv"
    ).stat().st_ino


def test_an_unreadable_archived_day_is_skipped_with_a_line_and_the_site_still_builds(
    chain, tmp_path, monkeypatch
):
    """A day whose Parquet file is gone (or damaged) gets no downloads this build, says so in
    one line, and is tried again by the next build; the other days are written."""
    from lnhm import settings as lnhm_settings
    from reports import archived

    for name, value in chain.env.items():
        monkeypatch.setenv(name, value)
    settings = lnhm_settings.load()
    entries = [{**e, "day": date.fromisoformat(d)} for d, e in chain.manifest()["days"].items()]
    broken = entries[0]["day"].isoformat()
    entries[0] = {**entries[0], "files": [f"readings/day={broken}/part-gone.parquet"]}
    said = []
    build = tmp_path / "site"
    result = archived.write_days(
        settings, entries, None, {}, build, lambda *args: None, said.append
    )
    assert result["unreadable_days"] == 1 and broken not in result["days"]
    assert sorted(result["days"]) == sorted(e["day"].isoformat() for e in entries[1:])
    assert not (build / f"downloads/readings-{broken}.csv").exists()
    [line] = [s for s in said if s.startswith(f"archived day {broken}: cannot read its files")]
    assert "\n" not in line
    assert said[-1].endswith("1 unreadable (tried again next build)")
