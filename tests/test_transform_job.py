"""The scheduled transform (`make transform`): models and data tests every 5 minutes, while the
unit tests, which check the SQL rather than the data, are left to CI and to analysts' builds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from tests.test_dbt_support import REPO, Warehouse, utc_minute


def unit_tests_in_project() -> set[str]:
    """Names of the unit tests declared in the project's YAML files, read from the files."""
    names = set()
    for path in Path(REPO, "models").rglob("*.yml"):
        for test in (yaml.safe_load(path.read_text()) or {}).get("unit_tests", []):
            names.add(test["name"])
    return names


def test_scheduled_build_runs_models_and_data_tests_but_not_unit_tests(tmp_path):
    wh = Warehouse.duckdb(tmp_path)
    wh.backfill(0.5, utc_minute(), plants=3)
    declared = unit_tests_in_project()
    assert len(declared) >= 5

    job = subprocess.run(
        [sys.executable, "-m", "lnhm.transform", "build"],
        cwd=REPO,
        env=wh.process_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert job.returncode == 0, job.stderr[-2000:]
    kinds = {r["unique_id"].split(".")[0] for r in wh.run_results()}
    assert {"model", "test", "seed", "snapshot"} <= kinds
    assert "unit_test" not in kinds

    # an analyst's plain `dbt build` still runs every unit test
    wh.dbt("build")
    ran = {
        r["unique_id"].split(".")[-1]
        for r in wh.run_results()
        if r["unique_id"].startswith("unit_test.")
    }
    assert ran == declared
