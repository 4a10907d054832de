"""The scheduled transform (`make transform`): models and data tests every 5 minutes, while the
unit tests, which check the SQL rather than the data, are left to CI and to analysts' builds;
the seeds and views are rebuilt only when the code that builds them changes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import yaml

from lnhm.deployed_code import fingerprint
from tests.test_dbt_support import REPO, Warehouse, utc_minute


def unit_tests_in_project() -> set[str]:
    """Names of the unit tests declared in the project's YAML files, read from the files."""
    names = set()
    for path in Path(REPO, "models").rglob("*.yml"):
        for test in (yaml.safe_load(path.read_text()) or {}).get("unit_tests", []):
            names.add(test["name"])
    return names


def seed_tests_in_project() -> set[str]:
    """Names dbt gives the generic tests declared in seeds/_seeds.yml (`<test>_<seed>_<column>`
    for unique / not_null / accepted_values without arguments' suffixes), read from the file."""
    names = set()
    for seed in yaml.safe_load(Path(REPO, "seeds", "_seeds.yml").read_text())["seeds"]:
        for column in seed.get("columns", []):
            for test in column.get("data_tests", []):
                if test in ("unique", "not_null"):
                    names.add(f"{test}_{seed['name']}_{column['name']}")
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
    # the seeds are loaded, but their data tests (seeds/_seeds.yml) are left to CI like the unit
    # tests: a seed changes only with the code
    seed_tests = seed_tests_in_project()
    assert len(seed_tests) >= 10
    ran_tests = {r["unique_id"] for r in wh.run_results() if r["unique_id"].startswith("test.")}
    assert not {t for t in ran_tests if t.split(".")[2] in seed_tests}
    assert len(ran_tests) >= 100  # the models' data tests do run

    # an analyst's plain `dbt build` still runs every unit test
    wh.dbt("build")
    ran = {
        r["unique_id"].split(".")[-1]
        for r in wh.run_results()
        if r["unique_id"].startswith("unit_test.")
    }
    assert ran == declared
    assert seed_tests <= {
        r["unique_id"].split(".")[2] for r in wh.run_results() if r["unique_id"].startswith("test.")
    }


def failures_after_one_more_reading(
    tmp_path, recording_taken: str, origin_location: str, pick: str
):
    """Build 15 minutes of 3 plants, then copy one raw reading (`pick`: the query's tail) as if
    fetched a minute after the newest, with the given recording_taken and origin_location SQL;
    the next scheduled build must fail: the ids of its failed tests."""
    wh = Warehouse.duckdb(tmp_path)
    wh.backfill(0.25, utc_minute(), plants=3)
    wh.build()
    ((fetched,),) = wh.query("select max(fetched_at) from marts.fct_readings")
    wh.execute(
        "insert into raw.plant_readings (plant_id, recording_taken, last_watered, name, "
        "soil_moisture, temperature, origin_location, payload, fetched_at, run_id, _dlt_load_id) "
        f"select plant_id, {recording_taken}, last_watered, name, soil_moisture, temperature, "
        f"{origin_location}, payload, "
        f"cast('{fetched:%Y-%m-%d %H:%M:%S}' as timestamp) + interval 1 minute, run_id, "
        f"_dlt_load_id from raw.plant_readings {pick}"
    )
    result = wh.build(check=False)
    assert result.returncode != 0
    return {r["unique_id"] for r in wh.run_results() if r["status"] == "fail"}


def test_scheduled_build_still_tests_each_new_raw_row(tmp_path):
    """The staged raw tables' row-local tests read only rows newer than fct_readings' watermark
    (where: new_rows); a bad row that arrives after the first build still fails the next."""
    failed = failures_after_one_more_reading(
        tmp_path,
        "'2030-01-01T00:00:00.000Z'",
        '\'["95.0", "-2.98", "Liverpool", "GB", "Europe/London"]\'',
        "limit 1",
    )
    assert any("accepted_range_stg_plants_api__readings_origin_latitude" in f for f in failed)


def test_a_second_answer_to_one_request_fails_the_scheduled_build(tmp_path):
    """The uniqueness of (plant, run, outcome) is tested on the new rows only (where: new_rows):
    a new reading in the run of an earlier one of its plant is still found."""
    # the same plant and run as the newest reading, recorded a second later (valid otherwise)
    failed = failures_after_one_more_reading(
        tmp_path,
        "strftime(cast(recording_taken as timestamp) + interval 1 second, "
        "'%Y-%m-%dT%H:%M:%S.000Z')",
        "origin_location",
        "order by fetched_at desc limit 1",
    )
    assert [f for f in failed if "int_fetch_attempts" in f] == [
        f for f in failed if "unique_combination_of_columns_int_fetch_attempts_plant_id" in f
    ]
    assert any("unique_combination_of_columns_int_fetch_attempts" in f for f in failed), failed


def test_a_new_copy_of_an_old_reading_fails_the_scheduled_build(tmp_path):
    """The staged readings' reading_id is tested for uniqueness over the rows whose key is the key
    of a new row (where: new_keys): a new row that repeats the oldest reading (as a broken merge
    would leave it) is found, though the other row is 15 minutes older than any new one."""
    failed = failures_after_one_more_reading(
        tmp_path, "recording_taken", "origin_location", "order by fetched_at limit 1"
    )
    assert any("unique_stg_plants_api__readings_reading_id" in f for f in failed), failed


def transform(wh: Warehouse, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`python -m lnhm.transform <args>` on this warehouse, as `make transform` runs it."""
    return subprocess.run(
        [sys.executable, "-m", "lnhm.transform", *args],
        cwd=REPO,
        env={**wh.process_env(), **env},
        capture_output=True,
        text=True,
        check=False,
    )


def scheduled(wh: Warehouse, ok: bool = True, **env: str) -> tuple[str, set[str]]:
    """Run `make transform`'s build (expected to succeed, or to fail if not `ok`); what its job
    line says it built, and the ids of the nodes dbt ran."""
    job = transform(wh, "build", **env)
    assert (job.returncode == 0) == ok, job.stdout[-3000:] + job.stderr[-2000:]
    line = json.loads(job.stdout.strip().splitlines()[-1])
    return line["counts"]["built"], {r["unique_id"] for r in wh.run_results()}


def compile_time_views(manifest: dict) -> set[str]:
    """Views whose SQL holds a value read when dbt compiles it: they call, directly or through
    other macros, a macro that runs a query (read from the manifest, not from selectors.yml)."""
    macros = manifest["macros"]
    querying = {uid for uid, m in macros.items() if "run_query(" in m["macro_sql"]}
    while True:
        more = {
            uid
            for uid, m in macros.items()
            if uid not in querying and set(m["depends_on"]["macros"]) & querying
        }
        if not more:
            break
        querying |= more
    return {
        uid
        for uid, n in manifest["nodes"].items()
        if n["resource_type"] == "model"
        and n["config"]["materialized"] == "view"
        and set(n["depends_on"]["macros"]) & querying
    }


def test_the_scheduled_build_leaves_out_seeds_and_views_until_the_code_changes(tmp_path):
    wh = Warehouse.duckdb(tmp_path)
    wh.backfill(0.5, utc_minute(), plants=3)
    # known from the files: every seed, and the staging models (views, dbt_project.yml)
    seeds = {f"seed.lnhm.{p.stem}" for p in Path(REPO, "seeds").glob("*.csv")}
    staging = {f"model.lnhm.{p.stem}" for p in Path(REPO, "models", "staging").rglob("*.sql")}
    from_seeds = {"model.lnhm.dim_incident_kinds", "model.lnhm.dim_failure_kinds"}
    assert len(seeds) >= 5 and len(staging) >= 3

    built, first = scheduled(wh)  # a new hot store: every node
    assert built == "every node"
    assert seeds | staging | from_seeds <= first
    tests = {n for n in first if n.startswith("test.")}
    assert any("stg_plants_api__readings" in t for t in tests)
    manifest = json.loads((wh.target_path / "manifest.json").read_text())
    views = {
        uid
        for uid, n in manifest["nodes"].items()
        if n["resource_type"] == "model" and n["config"]["materialized"] == "view"
    }
    assert staging <= views and len(views) >= 6

    built, second = scheduled(wh)
    assert built == "scheduled"
    assert not (seeds | from_seeds) & second
    assert {n for n in second if n.startswith("test.")} == tests  # the views' tests included
    assert not {n for n in second if n.startswith("unit_test.")}
    assert "model.lnhm.fct_readings" in second
    # the one view built every run: it reads a table model (PostgreSQL drops it whenever dbt
    # replaces that table) and holds values read at compile time
    assert views & second == {"model.lnhm.int_incident_episodes"}
    # and every view whose SQL holds a value read at compile time is built every run
    assert "model.lnhm.int_incident_episodes" in compile_time_views(manifest)
    assert compile_time_views(manifest) <= second

    # a `make dbt` that cannot change a relation keeps the record
    job = transform(wh, "dbt", "ls", "--select", "fct_readings")
    assert job.returncode == 0, job.stdout[-2000:]
    assert scheduled(wh)[0] == "scheduled"

    # a setting a model reads (dbt_project.yml's env_var) is code too
    built, nodes = scheduled(wh, LNHM_ALERT_AFTER_MINUTES="45")
    assert built == "every node" and seeds <= nodes
    assert scheduled(wh, LNHM_ALERT_AFTER_MINUTES="45")[0] == "scheduled"

    # an analyst's `make dbt` may change any relation: the next build builds every node
    job = transform(wh, "dbt", "run", "--select", "stg_plants_api__readings")
    assert job.returncode == 0, job.stdout[-2000:]
    assert scheduled(wh)[0] == "every node"

    # a view that went missing behind the record fails one build, and the next one rebuilds it
    with duckdb.connect(str(wh.duckdb_path)) as con:
        con.execute("drop view staging.stg_plants_api__readings")
    assert scheduled(wh, ok=False)[0] == "scheduled"
    built, nodes = scheduled(wh)
    assert built == "every node" and views <= nodes

    # a bad new reading fails data tests (status fail, not error): the record stays
    ((fetched,),) = wh.query("select max(fetched_at) from marts.fct_readings")
    wh.execute(
        "insert into raw.plant_readings (plant_id, recording_taken, last_watered, name, "
        "soil_moisture, temperature, origin_location, payload, fetched_at, run_id, _dlt_load_id) "
        "select plant_id, '2030-01-01T00:00:00.000Z', last_watered, name, soil_moisture, "
        'temperature, \'["95.0", "-2.98", "Liverpool", "GB", "Europe/London"]\', '
        f"payload, cast('{fetched:%Y-%m-%d %H:%M:%S}' as timestamp) + interval 1 minute, run_id, "
        "_dlt_load_id from raw.plant_readings limit 1"
    )
    for _ in range(2):
        built, nodes = scheduled(wh, ok=False)
        assert built == "scheduled"
        assert any(
            r["status"] == "fail" and "accepted_range_stg_plants_api__readings" in r["unique_id"]
            for r in wh.run_results()
        )


def test_the_code_fingerprint_follows_what_dbt_builds_from(tmp_path):
    (tmp_path / "dbt_project.yml").write_text("vars:\n  x: \"{{ env_var('LNHM_X', '1') }}\"\n")
    (tmp_path / "models").mkdir()
    model = tmp_path / "models" / "a.sql"
    model.write_text("select 1")

    def of(env: dict | None = None, target: str = "duckdb") -> str:
        return fingerprint(env or {}, target, root=tmp_path)

    base = of()
    assert of() == base
    assert of({"LNHM_OTHER": "2", "PGPASSWORD": "x"}) == base  # variables dbt does not read
    assert of({"LNHM_X": "2"}) != base
    assert of(target="postgres") != base
    model.write_text("select 2")
    assert of() != base
    model.write_text("select 1")
    (tmp_path / "models" / ".a.sql.swp").write_text("an editor's")  # not a file dbt reads
    assert of() == base
    (tmp_path / "models" / "b.sql").write_text("select 1")
    assert of() != base
