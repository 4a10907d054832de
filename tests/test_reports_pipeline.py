"""End to end: the real pipeline (backfill, dbt build, archive, dbt build) then the reports.

The numbers a plant page shows are checked against plain DuckDB over the hot store the
pipeline built and the archive's Parquet files listed in its manifest: after the archive run
each reading is in exactly one tier, and the site counts each once.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]
PLANT = 2
SHOWN = 0.05 + 1e-9  # values are shown to one decimal place


def run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-2000:])
    return result


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    base = tmp_path_factory.mktemp("pipeline")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LNHM_", "PG", "AWS_"))}
    env.update(
        {
            "LNHM_WAREHOUSE": "duckdb",
            "LNHM_DUCKDB_PATH": str(base / "lnhm.duckdb"),
            "LNHM_ARCHIVE_URL": str(base / "archive"),
            "LNHM_REPORTS_DIR": str(base / "site"),
            "LNHM_PLANT_IDS": "1-8",
            "DBT_TARGET_PATH": str(base / "target"),
            "DBT_LOG_PATH": str(base / "logs"),
            "RUNTIME__DLTHUB_TELEMETRY": "false",
            "DO_NOT_TRACK": "1",
        }
    )
    # 54 hours ending now: the oldest (partial) UTC day is more than 24 h old, so it archives
    run(["harness.backfill", "--hours", "54", "--plants", "8"], env)
    run(["lnhm.transform", "build"], env)
    archived = json.loads(run(["archive"], env).stdout.strip().splitlines()[-1])
    assert archived["counts"]["days_archived"] >= 1
    run(["lnhm.transform", "build"], env)
    result = run(["reports"], env)
    return {"base": base, "site": base / "site" / "current", "result": result}


def test_pipeline_site_numbers_match_hot_store_plus_archive(pipeline, chromium):
    from selenium.webdriver.common.by import By

    base = pipeline["base"]
    manifest = json.loads((base / "archive" / "manifest.json").read_text())
    files = [
        str(base / "archive" / f)
        for day in manifest["days"].values()
        for f in day["files"]
        if f.startswith("readings/")
    ]
    con = duckdb.connect()
    con.execute("set timezone = 'UTC'")
    con.execute(f"attach '{base / 'lnhm.duckdb'}' as h (read_only)")
    hot = con.execute(
        "select count(*) from h.marts.fct_readings where plant_id = ? and recorded_at is not null",
        [PLANT],
    ).fetchone()[0]
    archived = con.execute(
        f"select count(*) from read_parquet({files!r}) where plant_id = ?", [PLANT]
    ).fetchone()[0]
    both = con.execute(
        f"""
        select count(*) from read_parquet({files!r}) as a
        join h.marts.fct_readings as f using (plant_id, recorded_at)
        """
    ).fetchone()[0]
    latest = con.execute(
        """
        select soil_moisture_pct, temperature_c from h.marts.fct_readings
        where plant_id = ? order by recorded_at desc limit 1
        """,
        [PLANT],
    ).fetchone()
    statuses = dict(
        con.execute("select status, count(*) from h.marts.plant_status group by 1").fetchall()
    )
    assert archived > 0 and hot > 0 and both == 0  # exactly one tier per reading

    chromium.get_log("browser")
    chromium.get((pipeline["site"] / f"plants/{PLANT}.html").as_uri())
    assert chromium.get_log("browser") == []

    def shown(name: str) -> float:
        text = chromium.find_element(By.CSS_SELECTOR, f'[data-metric="{name}"]').text
        return float(re.search(r"-?[\d,]+(\.\d+)?", text).group(0).replace(",", ""))

    assert shown("readings-on-record") == hot + archived
    assert shown("moisture") == pytest.approx(latest[0], abs=SHOWN)
    assert shown("temperature") == pytest.approx(latest[1], abs=SHOWN)

    chromium.get((pipeline["site"] / "index.html").as_uri())
    for status, count in statuses.items():
        assert shown(f"status-{status}") == count
    chromium.get((pipeline["site"] / "archive.html").as_uri())
    assert shown("archived-days") == len(manifest["days"])
    assert shown("archived-readings") == sum(d["readings"] for d in manifest["days"].values())
