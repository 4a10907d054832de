"""The report site on the real chain (tests/chain.py: backfill -> dbt -> archive -> dbt ->
reports), checked in headless Chromium: every page loads, nothing leaves the site, no script,
XSS shown as text, a mailto on every page, archive on S3, hot store on PostgreSQL, no archive yet.
The numbers themselves are checked against raw rows and Parquet in tests/test_reports_numbers.py.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlparse

import duckdb
import pytest
import yaml

from tests.chain import PLANTS, XSS, XSS_ID, build_chain
from tests.test_dbt_support import REPO, parse_api_time

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "build" / "test-artifacts"
PLANT = 2  # an ordinary plant
EMAIL = "plant-reports@lnhm.example"


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
def demo(chain, tmp_path_factory):
    """The chain's warehouse, its site rebuilt with a problem-report address of our own."""
    base = tmp_path_factory.mktemp("reports")
    env = {
        "LNHM_DUCKDB_PATH": str(chain.duckdb_path),
        "LNHM_ARCHIVE_URL": str(chain.archive),
        "LNHM_REPORTS_DIR": str(base / "site"),
        "LNHM_PROBLEM_EMAIL": EMAIL,
    }
    result = run_reports(env)
    return {"chain": chain, "site": base / "site" / "current", "env": env, "result": result}


def page_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def metric_texts(html: str, name: str) -> list[str]:
    return re.findall(rf'data-metric="{name}">([^<]*)<', html)


# --- generation ------------------------------------------------------------------------------


def test_site_has_every_page_progress_lines_and_one_job_line(demo):
    site = demo["site"]
    names = {str(p.relative_to(site)) for p in page_pages(site)}
    assert {"index.html", "archive.html", "data-quality.html", "botanists/index.html"} <= names
    plant_pages = {n for n in names if re.fullmatch(r"plants/\d+\.html", n)}
    assert plant_pages == {f"plants/{i}.html" for i in range(1, PLANTS + 1)}
    # and a minute page per plant and archived day (tests/test_reports_archived_days.py)
    day_pages = {n for n in names if n.startswith("plants/")} - plant_pages
    assert day_pages and all(re.fullmatch(r"plants/\d+/[\d-]{10}\.html", n) for n in day_pages)
    assert any(n.startswith("botanists/") and n != "botanists/index.html" for n in names)
    lines = demo["result"].stdout.strip().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["job"] == "reports" and record["outcome"] == "ok"
    assert record["counts"]["plants"] == PLANTS
    assert record["counts"]["archived_days"] == len(demo["chain"].manifest()["days"]) >= 1
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


def test_overview_tells_status_in_words_and_counts_every_plant_once(demo, chromium):
    from selenium.webdriver.common.by import By

    chromium.get((demo["site"] / "index.html").as_uri())
    counts = {
        status: int(metric(chromium, f"status-{status}"))
        for status in ("ok", "warning", "critical", "missing", "on_loan", "sensor_fault")
    }
    assert sum(counts.values()) == PLANTS == int(metric(chromium, "plants"))
    rows = chromium.find_elements(By.CSS_SELECTOR, "table.plants tr[data-plant-id]")
    assert len(rows) == PLANTS
    words = {"ok": "OK", "warning": "Warning", "critical": "Critical", "missing": "Missing"}
    body = chromium.find_element(By.TAG_NAME, "body").text
    for status, count in counts.items():
        if count and status in words:
            assert words[status] in body  # in words, not by colour alone


def metric(driver, name: str) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f'[data-metric="{name}"]').text


def test_archive_page_lists_manifest_days_with_friendly_labels(demo, chromium):
    from selenium.webdriver.common.by import By

    manifest = demo["chain"].manifest()
    assert manifest["days"]
    chromium.get((demo["site"] / "archive.html").as_uri())
    for day, entry in manifest["days"].items():
        row = chromium.find_element(By.CSS_SELECTOR, f'tr[data-day="{day}"]')
        assert re.match(
            r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{2} [A-Z][a-z]{2} \d{4}$", entry["label"]
        )
        assert entry["label"] in row.text


def seed(name: str) -> dict[str, str]:
    with (ROOT / "seeds" / f"{name}.csv").open(newline="", encoding="utf-8") as f:
        return {row["code"]: row["label"] for row in csv.DictReader(f)}


def test_incident_and_failure_kinds_are_named_as_the_seeds_name_them(demo):
    """One vocabulary: the labels people read on the site are the seeds' (as in the e-mails)."""
    kinds = seed("incident_kinds")
    shown = set()
    for page in [demo["site"] / "index.html", *sorted((demo["site"] / "plants").glob("*.html"))]:
        for code, label in re.findall(r'data-kind="([a-z_]+)">([^<]*)', page.read_text()):
            assert html.unescape(label).strip() == kinds[code], (page, code)
            shown.add(code)
    assert shown  # the chain (ending 12:30, plants dry) has incidents
    failures = seed("failure_kinds")
    quality = html.unescape((demo["site"] / "data-quality.html").read_text())
    for label in failures.values():
        assert f'<th class="n">{label}</th>' in quality, label


def test_incidents_of_archived_days_are_on_the_plant_pages(demo):
    """fct_incidents is long-lived: an incident that began on a day now archived keeps its row
    (and id), and the plant page still lists it."""
    chain = demo["chain"]
    archived = sorted(chain.manifest()["days"])
    con = duckdb.connect(str(chain.duckdb_path), read_only=True)
    old = con.execute(
        """
        select plant_id, incident_id, kind from marts.fct_incidents
        where plant_id is not null and cast(started_at as date) <= cast(? as date)
        """,
        [archived[-1]],
    ).fetchall()
    hot_from = con.execute("select min(recorded_at) from marts.fct_readings").fetchone()[0]
    con.close()
    assert old and hot_from.date().isoformat() > archived[-1]
    for pid, incident_id, kind in old:
        page = (demo["site"] / f"plants/{pid}.html").read_text()
        assert f'data-incident-id="{incident_id}"' in page, (pid, kind)


def test_site_builds_before_anything_is_archived(tmp_path):
    chain = build_chain(tmp_path, plants=3, hours=6, archive=False)
    assert not (chain.archive / "manifest.json").exists()
    archive = (chain.site / "archive.html").read_text()
    assert "Nothing archived yet" in archive
    for pid in (1, 2, 3):
        page = (chain.site / f"plants/{pid}.html").read_text()
        assert int(metric_texts(page, "readings-on-record")[0].replace(",", "")) > 300


def test_archive_on_s3_is_read_through_the_manifest(demo, s3, tmp_path):
    """The same site from an archive on an S3-compatible server (moto, a separate process)."""
    bucket = s3.make_bucket()
    client = s3.client()
    archive = demo["chain"].archive
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
    local = (demo["site"] / "archive.html").read_text()
    remote = (tmp_path / "site" / "current" / "archive.html").read_text()
    for name in ("archived-days", "archived-readings", "archived-size", "readings", "files"):
        assert metric_texts(remote, name) == metric_texts(local, name) != [], name


@pytest.fixture(scope="module")
def postgres_chain(postgres, tmp_path_factory):
    """The same chain (same simulated history) with the hot store on PostgreSQL."""
    return build_chain(
        tmp_path_factory.mktemp("chain-pg"),
        rename={XSS_ID: XSS},
        postgres_env=postgres.new_database(),
    )


def test_real_chain_on_postgresql_shows_the_same_numbers_as_on_duckdb(chain, postgres_chain):
    """Backfill, dbt, archive, dbt and reports on PostgreSQL: every figure as on DuckDB (but
    the archive's bytes: the Parquet files' column types follow the hot store's)."""
    assert postgres_chain.env["LNHM_WAREHOUSE"] == "postgres"
    assert postgres_chain.manifest()["days"].keys() == chain.manifest()["days"].keys()
    pattern = re.compile(r'data-metric="([a-z0-9-]+)"[^>]*>(.*?)</', re.S)
    pages = ["index.html", "data-quality.html"] + [f"plants/{i}.html" for i in range(1, PLANTS + 1)]
    pages += sorted(str(p.relative_to(chain.site)) for p in chain.site.glob("origins/*.html"))
    compared = 0
    for page in pages:
        duck, pg = (
            [
                (name, text)
                for name, text in pattern.findall((c.site / page).read_text())
                if "size" not in name
            ]
            for c in (chain, postgres_chain)
        )
        assert pg == duck, page
        compared += len(duck)
    assert compared > 250


def test_no_sql_in_reports_turns_readings_into_figures():
    """dbt owns every number: the reports' SQL (queries/*.sql and the statements in Python) only
    copies marts and reads the manifest; no aggregate, no window, no grouping."""
    aggregate = re.compile(
        r"\b(count|sum|avg|min|max|stddev\w*|var_\w+|regr_\w+|string_agg|arg_max|arg_min)\s*\(|"
        r"\bgroup\s+by\b|\bover\s*\(|\bread_parquet\b",
        re.I,
    )
    queries = {p.name: p.read_text() for p in (ROOT / "reports" / "queries").rglob("*.sql")}
    # one query reads the archive's Parquet files: an archived day's rows copied as they are,
    # for its downloads and minute pages (reports/archived.py); it computes nothing either
    copy = re.compile(aggregate.pattern.replace(r"|\bread_parquet\b", ""), re.I)
    assert "read_parquet" in queries.pop("archive_day.sql", "")
    assert not copy.search((ROOT / "reports" / "queries" / "archive_day.sql").read_text())
    sql = list(queries.values())
    assert sql and not [text for text in sql if aggregate.search(text)]
    for path in (ROOT / "reports").glob("*.py"):
        for statement in re.findall(r'execute\(\s*f?"([^"]*)"', path.read_text()):
            # how many rows a copied table has, for a progress line, is allowed
            if re.fullmatch(r"select count\(\*\) from \w+", statement):
                continue
            assert not aggregate.search(statement), (path.name, statement)


# --- freshness (issue 11) --------------------------------------------------------------------

AGE = re.compile(r"(a|an|\d+) (second|minute|hour|day|month|year)s? ago")
SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "month": 30 * 86400}


def test_every_page_says_how_old_its_newest_reading_is_and_reloads_itself(demo):
    """The age is checked against the newest recording time in raw (parsed here), the page's
    own generation time, and dbt_project.yml's missing_after_minutes for the stale mark."""
    chain = demo["chain"]
    con = duckdb.connect(str(chain.duckdb_path), read_only=True)
    try:
        taken = [r[0] for r in con.sql("select recording_taken from raw.plant_readings").fetchall()]
    finally:
        con.close()
    newest = max(t for t in map(parse_api_time, taken) if t is not None)
    stale_after = yaml.safe_load((REPO / "dbt_project.yml").read_text())["vars"][
        "missing_after_minutes"
    ]
    for page in page_pages(demo["site"]):
        html = page.read_text()
        if page.parent.parent.name == "plants":
            # an archived day's minute page is written once and kept (reports/archived.py): it
            # says which day its readings are of, and does not reload
            assert "data-frozen-day=" in html and "http-equiv" not in html, page
            continue
        assert '<meta http-equiv="refresh" content="300">' in html, page.name
        # the generation time in UTC, from the data attribute under the museum's wall clock
        generated = datetime.strptime(
            re.search(r'Generated <time datetime="([^"]+)"', html).group(1),
            "%Y-%m-%dT%H:%M:%SZ",
        )
        age = (generated - newest).total_seconds()
        [text] = metric_texts(html, "newest-reading-age")
        number, unit = AGE.fullmatch(text).groups()
        shown = (1 if number in ("a", "an") else int(number)) * SECONDS[unit]
        # humanised: the shown age is the real one rounded to its unit (the page's clock is
        # read to the minute)
        assert abs(shown - age) < SECONDS[unit] + 60, (page.name, text, age)
        assert ('data-metric="page-stale"' in html) == (age > 60 * stale_after + 60), page.name


def test_a_page_is_stale_when_the_feed_is_down_or_its_newest_reading_too_old():
    from reports.build import freshness_facts

    now = datetime(2026, 12, 3, 8, 20)
    site = {
        "as_of_at": now,
        "hot_last_recorded_at": now - timedelta(minutes=2),
        "is_feed_down": False,
        "stale_after_minutes": 10,
    }
    fresh = freshness_facts(site, [], now)
    assert (fresh["newest_reading_age"], fresh["is_stale"]) == ("2 minutes ago", False)
    down = freshness_facts({**site, "is_feed_down": True}, [], now)
    assert down["is_stale"]
    old = freshness_facts({**site, "hot_last_recorded_at": now - timedelta(hours=2)}, [], now)
    assert (old["newest_reading_age"], old["is_stale"]) == ("2 hours ago", True)
    empty = freshness_facts({**site, "hot_last_recorded_at": None}, [], now)
    assert empty["is_stale"]


def test_an_id_the_api_does_not_know_is_on_the_overview_as_missing_since_it_was_first_asked(
    tmp_path,
):
    """Issue 11: plant 7 answers "plant not found"; it is listed as missing, with since when
    (the first request for it, read here from the raw failure rows), and has its page."""
    chain = build_chain(tmp_path, plants=8, hours=1, archive=False)
    con = duckdb.connect(str(chain.duckdb_path), read_only=True)
    try:
        con.execute("set timezone = 'UTC'")
        not_found = con.sql(
            "select plant_id, min(fetched_at) from raw.plant_fetch_failures "
            "where error_kind = 'not_found' group by plant_id"
        ).fetchall()
    finally:
        con.close()
    assert [pid for pid, _ in not_found] == [7]
    first = not_found[0][1].astimezone(UTC).replace(tzinfo=None)
    overview = (chain.site / "index.html").read_text()
    missing = overview.split("Missing (no recent reading)")[1].split("</div>")[0]
    [item] = re.findall(r'<li data-plant-id="7">(.*?)</li>', missing)
    assert "plant not found" in html.unescape(item)
    # the chain's December: London's wall clock is UTC's, abbreviated GMT
    assert f"no reading since {first:%a %d %b %Y %H:%M} GMT" in html.unescape(
        re.sub(r"<[^>]+>", "", item)
    )
    assert (chain.site / "plants" / "7.html").exists()
