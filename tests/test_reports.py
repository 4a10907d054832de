"""The report site, generated from synthetic marts + archive and checked in headless Chromium.

The data comes from ``reports.demo_data`` (hot store marts and an archive in the contract
layout), so these tests do not depend on ingest, dbt or the archive job; the end-to-end test
over the real pipeline is in tests/test_reports_pipeline.py. Expectations are computed here
with plain DuckDB over the same files, not with the reports' own queries.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import duckdb
import pytest

from reports.demo_data import write_demo

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "build" / "test-artifacts"
XSS = "<script>alert(1)</script>"
XSS_ID = 3
PLANT = 2  # an ordinary plant whose numbers we check
EMAIL = "plant-reports@lnhm.example"
SHOWN = 0.05 + 1e-9  # values are shown to one decimal place


def run_reports(env_extra: dict, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LNHM_", "PG", "AWS_"))}
    env.update(env_extra)
    result = subprocess.run(
        [sys.executable, "-m", "reports"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Synthetic hot store + 3 archived days for 12 plants, one named like an XSS attack."""
    base = tmp_path_factory.mktemp("reports")
    facts = write_demo(
        base / "hot.duckdb", base / "archive", plants=12, archive_days=3, names={XSS_ID: XSS}
    )
    env = {
        "LNHM_DUCKDB_PATH": str(base / "hot.duckdb"),
        "LNHM_ARCHIVE_URL": str(base / "archive"),
        "LNHM_REPORTS_DIR": str(base / "site"),
        "LNHM_PROBLEM_EMAIL": EMAIL,
    }
    result = run_reports(env)
    # the live site is LNHM_REPORTS_DIR/current (reports/publish.py)
    site = base / "site" / "current"
    return {"base": base, "site": site, "env": env, "facts": facts, "result": result}


def archive_files(archive: Path, kind: str) -> list[str]:
    manifest = json.loads((archive / "manifest.json").read_text())
    return [
        str(archive / f)
        for day in manifest["days"].values()
        for f in day["files"]
        if f.startswith(kind + "/")
    ]


def independent(demo) -> duckdb.DuckDBPyConnection:
    """Plain DuckDB over the hot file and the archive files the manifest lists."""
    con = duckdb.connect()
    con.execute("set timezone = 'UTC'")
    con.execute(f"attach '{demo['base'] / 'hot.duckdb'}' as h (read_only)")
    files = archive_files(demo["base"] / "archive", "readings")
    con.execute(f"create view arch as select * from read_parquet({files!r})")
    return con


def page_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def metric(driver, name: str) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f'[data-metric="{name}"]').text


def number(text: str) -> float:
    match = re.search(r"-?[\d,]+(\.\d+)?", text)
    assert match, text
    return float(match.group(0).replace(",", ""))


# --- generation ------------------------------------------------------------------------------


def test_site_has_every_page_progress_lines_and_one_job_line(demo):
    site = demo["site"]
    names = {str(p.relative_to(site)) for p in page_pages(site)}
    assert {"index.html", "archive.html", "data-quality.html", "botanists/index.html"} <= names
    # every plant with readings or a status (7 is never found: no page), every botanist
    plant_pages = {n for n in names if n.startswith("plants/")}
    assert plant_pages == {f"plants/{i}.html" for i in range(1, 13) if i != 7}
    assert any(n.startswith("botanists/") and n != "botanists/index.html" for n in names)
    lines = demo["result"].stdout.strip().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["job"] == "reports" and record["outcome"] == "ok"
    assert record["counts"]["plants"] == 11
    progress = demo["result"].stderr.splitlines()
    assert len(progress) >= 5 and all(line.startswith("reports: ") for line in progress)


def test_invalid_configuration_exits_2_with_one_line(tmp_path):
    result = run_reports({"LNHM_WAREHOUSE": "oracle"}, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "LNHM_WAREHOUSE" in result.stderr


def test_missing_hot_store_fails_with_one_clear_line(tmp_path):
    result = run_reports(
        {"LNHM_DUCKDB_PATH": str(tmp_path / "nope.duckdb"), "LNHM_REPORTS_DIR": str(tmp_path)},
        check=False,
    )
    assert result.returncode == 1
    assert "nope.duckdb" in result.stderr and result.stderr.strip().count("\n") == 0


def test_hot_store_without_marts_asks_for_dbt_first(tmp_path):
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    result = run_reports(
        {"LNHM_DUCKDB_PATH": str(tmp_path / "empty.duckdb"), "LNHM_REPORTS_DIR": str(tmp_path)},
        check=False,
    )
    assert result.returncode == 1
    assert "make transform" in result.stderr and result.stderr.strip().count("\n") == 0


# --- in the browser --------------------------------------------------------------------------


def _requests_outside(driver, site: Path) -> list[str]:
    """URLs a page of the site asked for (DevTools network events) that are not site files.

    Events of the browser's own pages (chrome://new-tab-page and the like) are not the site's.
    """
    outside = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") != "Network.requestWillBeSent":
            continue
        params = message["params"]
        if not params.get("documentURL", "").startswith(site.as_uri()):
            continue
        url = params["request"]["url"]
        if url.startswith("data:"):
            continue
        parsed = urlparse(url)
        if parsed.scheme != "file" or not unquote(parsed.path).startswith(str(site)):
            outside.append(url)
    return outside


def test_requests_outside_sees_a_remote_image(tmp_path, chromium):
    """The network check can fail: a page with a remote <img> is caught."""
    page = tmp_path / "bad.html"
    page.write_text('<!doctype html><title>x</title><img src="http://192.0.2.1/x.png" alt="">')
    chromium.get_log("performance")
    chromium.get(page.as_uri())
    assert _requests_outside(chromium, tmp_path) == ["http://192.0.2.1/x.png"]
    chromium.get_log("browser")  # the refused request's error is expected here


def test_every_page_loads_without_errors_or_requests_leaving_the_site(demo, chromium):
    from selenium.webdriver.common.by import By

    site = demo["site"]
    chromium.get_log("performance")  # drop what earlier tests left
    chromium.get_log("browser")
    for page in page_pages(site):
        chromium.get(page.as_uri())
        errors = [e for e in chromium.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert errors == [], (page, errors)
        assert _requests_outside(chromium, site) == [], page
        # nothing in the DOM can load from elsewhere either: every src and stylesheet is local
        for element in chromium.find_elements(By.CSS_SELECTOR, "[src], link[href]"):
            ref = element.get_attribute("src") or element.get_attribute("href")
            assert ref.startswith(("file://", "data:")), (page, ref)
        for link in chromium.find_elements(By.CSS_SELECTOR, "a[href]"):
            href = link.get_attribute("href")
            if href.startswith(("http://", "https://")):
                # only the plant's photo, and only as a link the reader chooses to follow
                assert "external" in link.get_attribute("class"), (page, href)
                assert "noreferrer" in link.get_attribute("rel")
            else:
                assert href.startswith(("file://", "mailto:")), (page, href)
        assert chromium.execute_script("return document.scripts.length") == 0


def test_every_page_has_a_report_a_problem_mailto_link(demo, chromium):
    from selenium.webdriver.common.by import By

    for page in page_pages(demo["site"]):
        chromium.get(page.as_uri())
        links = chromium.find_elements(By.CSS_SELECTOR, "a.report-problem")
        assert links, page
        for link in links:
            href = link.get_attribute("href")
            assert href.startswith(f"mailto:{EMAIL}?subject="), href
            subject = unquote(href.split("subject=")[1].split("&")[0])
            assert subject.startswith("LNHM plant reports: problem with ")


def test_screenshots_of_the_overview_and_a_plant_page(demo, chromium):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for rel, name in (("index.html", "reports-overview.png"), (f"plants/{PLANT}.html", None)):
        chromium.get((demo["site"] / rel).as_uri())
        height = chromium.execute_script("return document.body.scrollHeight")
        chromium.set_window_size(1280, min(height + 40, 6000))
        target = ARTIFACTS / (name or f"reports-plant-{PLANT}.png")
        assert chromium.save_screenshot(str(target))
        assert target.stat().st_size > 10_000
    chromium.set_window_size(1280, 1024)
    # the print stylesheet: the plant page as the browser prints it (charts are vector SVG)
    pdf = base64.b64decode(chromium.print_page())
    assert pdf.startswith(b"%PDF")
    (ARTIFACTS / f"reports-plant-{PLANT}.pdf").write_bytes(pdf)


def test_a_plant_named_like_a_script_shows_as_text(demo, chromium):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    for rel in ("index.html", f"plants/{XSS_ID}.html"):
        chromium.get((demo["site"] / rel).as_uri())
        with pytest.raises(NoAlertPresentException):
            chromium.switch_to.alert.text  # noqa: B018 - raises when no alert opened
        assert XSS in chromium.find_element(By.TAG_NAME, "body").text
        assert chromium.execute_script("return document.scripts.length") == 0
    assert XSS in chromium.title
    raw = (demo["site"] / f"plants/{XSS_ID}.html").read_text()
    assert XSS not in raw and "&lt;script&gt;alert(1)&lt;/script&gt;" in raw


def test_plant_page_numbers_match_independent_sql(demo, chromium):
    con = independent(demo)
    latest = con.execute(
        """
        select soil_moisture_pct, temperature_c, recorded_at from h.marts.fct_readings
        where plant_id = ? order by recorded_at desc limit 1
        """,
        [PLANT],
    ).fetchone()
    as_of = con.execute("select max(recorded_at) from h.marts.fct_readings").fetchone()[0]
    day = con.execute(
        """
        with w as (
            select * from h.marts.fct_readings where plant_id = $p
                and recorded_at > $as_of - interval 24 hours and recorded_at <= $as_of
            union all
            select reading_id, plant_id, recorded_at, soil_moisture_pct, temperature_c,
                last_watered_at, fetched_at, run_id, is_moisture_out_of_range,
                is_temperature_implausible, is_duplicate, is_future, is_stale,
                has_missing_fields, is_flagged
            from arch where plant_id = $p
                and recorded_at > $as_of - interval 24 hours and recorded_at <= $as_of
        )
        select count(*), count(*) filter (where is_flagged),
            min(soil_moisture_pct) filter (where not is_moisture_out_of_range and not is_duplicate),
            avg(soil_moisture_pct) filter (where not is_moisture_out_of_range and not is_duplicate),
            max(soil_moisture_pct) filter (where not is_moisture_out_of_range and not is_duplicate),
            min(temperature_c) filter (where not is_temperature_implausible and not is_duplicate),
            max(temperature_c) filter (where not is_temperature_implausible and not is_duplicate)
        from w
        """,
        {"p": PLANT, "as_of": as_of},
    ).fetchone()
    on_record = con.execute(
        "select (select count(*) from h.marts.fct_readings where plant_id = $p)"
        " + (select count(*) from arch where plant_id = $p)",
        {"p": PLANT},
    ).fetchone()[0]

    chromium.get((demo["site"] / f"plants/{PLANT}.html").as_uri())
    assert number(metric(chromium, "moisture")) == pytest.approx(latest[0], abs=SHOWN)
    assert number(metric(chromium, "temperature")) == pytest.approx(latest[1], abs=SHOWN)
    assert latest[2].strftime("%a %d %b %Y %H:%M") in metric(chromium, "latest-recorded-at")
    assert number(metric(chromium, "readings-24h")) == day[0]
    assert number(metric(chromium, "flagged-24h")) == day[1]
    assert number(metric(chromium, "min-moisture-24h")) == pytest.approx(day[2], abs=SHOWN)
    assert number(metric(chromium, "avg-moisture-24h")) == pytest.approx(day[3], abs=SHOWN)
    assert number(metric(chromium, "max-moisture-24h")) == pytest.approx(day[4], abs=SHOWN)
    assert number(metric(chromium, "min-temperature-24h")) == pytest.approx(day[5], abs=SHOWN)
    assert number(metric(chromium, "max-temperature-24h")) == pytest.approx(day[6], abs=SHOWN)
    # hot store + archive, each reading once (3 archived days + the hot days)
    assert number(metric(chromium, "readings-on-record")) == on_record
    assert on_record > 3 * 1440


def test_overview_counts_match_independent_sql(demo, chromium):
    from selenium.webdriver.common.by import By

    con = independent(demo)
    statuses = dict(
        con.execute("select status, count(*) from h.marts.plant_status group by 1").fetchall()
    )
    open_incidents = con.execute("select count(*) from h.marts.anomalies where is_open").fetchone()[
        0
    ]
    chromium.get((demo["site"] / "index.html").as_uri())
    for status in ("ok", "warning", "critical", "missing", "on_loan", "sensor_fault"):
        assert number(metric(chromium, f"status-{status}")) == statuses.get(status, 0), status
    assert number(metric(chromium, "open-incidents")) == open_incidents
    row = chromium.find_element(By.CSS_SELECTOR, f'tr[data-plant-id="{PLANT}"]')
    moisture = con.execute(
        "select soil_moisture_pct from h.marts.plant_status where plant_id = ?", [PLANT]
    ).fetchone()[0]
    cell = row.find_element(By.CSS_SELECTOR, '[data-metric="moisture"]').text
    assert number(cell) == pytest.approx(moisture, abs=SHOWN)
    # status is told in words, not by colour alone
    assert "Sensor fault" in chromium.find_element(By.TAG_NAME, "body").text


def test_archive_page_lists_manifest_days_with_friendly_labels(demo, chromium):
    from selenium.webdriver.common.by import By

    manifest = json.loads((demo["base"] / "archive" / "manifest.json").read_text())
    chromium.get((demo["site"] / "archive.html").as_uri())
    for day, entry in manifest["days"].items():
        row = chromium.find_element(By.CSS_SELECTOR, f'tr[data-day="{day}"]')
        assert re.match(
            r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{2} [A-Z][a-z]{2} \d{4}$", entry["label"]
        )
        assert entry["label"] in row.text
        assert (
            number(row.find_element(By.CSS_SELECTOR, '[data-metric="readings"]').text)
            == (entry["readings"])
        )


def test_data_quality_counts_failures_per_day_over_both_tiers(demo, chromium):
    from selenium.webdriver.common.by import By

    con = independent(demo)
    failure_files = archive_files(demo["base"] / "archive", "fetch_failures")
    archived = dict(
        con.execute(
            f"""
            select cast(cast(fetched_at as timestamp) as date), count(*)
            from read_parquet({failure_files!r}) group by 1
            """
        ).fetchall()
    )
    hot = dict(
        con.execute(
            "select day, sum(failed_requests) from h.marts.data_quality group by 1"
        ).fetchall()
    )
    chromium.get((demo["site"] / "data-quality.html").as_uri())
    table = chromium.find_element(By.CSS_SELECTOR, "table.quality-failures")
    for day, expected in {**archived, **hot}.items():
        row = table.find_element(By.CSS_SELECTOR, f'tr[data-day="{day}"]')
        shown = number(row.find_element(By.CSS_SELECTOR, '[data-metric="failed"]').text)
        assert shown == expected, day
    assert set(archived).isdisjoint(hot)


def test_a_day_both_archived_and_still_hot_is_counted_once(demo, tmp_path):
    """Between the archive's write and its prune a day is in both tiers: no double counting."""
    base = tmp_path
    write_demo(base / "hot.duckdb", base / "archive", plants=4, archive_days=2)
    env = {
        "LNHM_DUCKDB_PATH": str(base / "hot.duckdb"),
        "LNHM_ARCHIVE_URL": str(base / "archive"),
    }
    run_reports({**env, "LNHM_REPORTS_DIR": str(base / "before")})
    files = archive_files(base / "archive", "readings")
    con = duckdb.connect(str(base / "hot.duckdb"))
    copied = con.execute(
        f"""
        insert into marts.fct_readings
        select reading_id, plant_id, recorded_at, soil_moisture_pct, temperature_c,
            last_watered_at, cast(fetched_at as timestamp), run_id, is_moisture_out_of_range,
            is_temperature_implausible, is_duplicate, is_future, is_stale,
            has_missing_fields, is_flagged
        from read_parquet({files[:1]!r})
        """
    ).fetchone()[0]
    con.close()
    assert copied > 0
    run_reports({**env, "LNHM_REPORTS_DIR": str(base / "after")})
    for plant in (1, 2):
        before = (base / "before" / "current" / f"plants/{plant}.html").read_text()
        after = (base / "after" / "current" / f"plants/{plant}.html").read_text()
        pattern = r'data-metric="readings-on-record">([\d,]+)<'
        assert re.search(pattern, before).group(1) == re.search(pattern, after).group(1)


def test_site_builds_before_anything_is_archived(tmp_path):
    write_demo(tmp_path / "hot.duckdb", tmp_path / "archive", plants=3, archive_days=0)
    (tmp_path / "archive" / "manifest.json").unlink()
    run_reports(
        {
            "LNHM_DUCKDB_PATH": str(tmp_path / "hot.duckdb"),
            "LNHM_ARCHIVE_URL": str(tmp_path / "archive"),
            "LNHM_REPORTS_DIR": str(tmp_path / "site"),
        }
    )
    assert "Nothing archived yet" in (tmp_path / "site" / "current" / "archive.html").read_text()
    assert (tmp_path / "site" / "current" / "plants" / "1.html").exists()


def test_archive_on_s3_is_read_through_the_manifest(demo, s3, tmp_path):
    """The same site from an archive on an S3-compatible server (moto, a separate process)."""
    bucket = s3.make_bucket()
    client = s3.client()
    archive = demo["base"] / "archive"
    for path in archive.rglob("*"):
        if path.is_file():
            client.upload_file(str(path), bucket, f"lnhm/{path.relative_to(archive)}")
    run_reports(
        {
            **s3.env,
            "LNHM_DUCKDB_PATH": demo["env"]["LNHM_DUCKDB_PATH"],
            "LNHM_ARCHIVE_URL": f"s3://{bucket}/lnhm",
            "LNHM_REPORTS_DIR": str(tmp_path / "site"),
        }
    )
    pattern = r'data-metric="readings-on-record">([\d,]+)<'
    local = (demo["site"] / f"plants/{PLANT}.html").read_text()
    remote = (tmp_path / "site" / "current" / f"plants/{PLANT}.html").read_text()
    assert re.search(pattern, remote).group(1) == re.search(pattern, local).group(1)
    assert 'archived-days">3<' in (tmp_path / "site" / "current" / "archive.html").read_text()


def test_hot_store_on_postgresql(demo, postgres_env, tmp_path):
    """The marts copied into PostgreSQL give the same plant page numbers as the DuckDB file."""
    from lnhm.duck import load_extension

    con = duckdb.connect()
    load_extension(con, "postgres_scanner")
    libpq = " ".join(
        f"{key}={postgres_env[var]}"
        for key, var in (
            ("host", "PGHOST"),
            ("port", "PGPORT"),
            ("user", "PGUSER"),
            ("dbname", "PGDATABASE"),
        )
        if postgres_env.get(var)
    )
    con.execute(f"attach '{libpq}' as pg (type postgres)")
    con.execute(f"attach '{demo['env']['LNHM_DUCKDB_PATH']}' as h (read_only)")
    con.execute("create schema pg.marts")
    for (table,) in con.execute(
        "select table_name from duckdb_tables() where database_name = 'h' and schema_name = 'marts'"
    ).fetchall():
        con.execute(f"create table pg.marts.{table} as select * from h.marts.{table}")
    con.close()
    run_reports(
        {
            **postgres_env,
            "LNHM_WAREHOUSE": "postgres",
            "LNHM_ARCHIVE_URL": demo["env"]["LNHM_ARCHIVE_URL"],
            "LNHM_REPORTS_DIR": str(tmp_path / "site"),
        }
    )
    for metric_name in ("readings-on-record", "readings-24h", "avg-moisture-24h"):
        pattern = rf'data-metric="{metric_name}">([^<]+)<'
        local = (demo["site"] / f"plants/{PLANT}.html").read_text()
        remote = (tmp_path / "site" / "current" / f"plants/{PLANT}.html").read_text()
        assert re.search(pattern, remote).group(1) == re.search(pattern, local).group(1)
