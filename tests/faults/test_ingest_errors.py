"""Fault matrix, dlt failures (issue 13): the one stderr line keeps the cause (it used to end
"...with exception:" with a page of traceback and dlt's warnings around it), and the failed
run's rows wait for the next run instead of being lost.
"""

from __future__ import annotations

import json

import duckdb

from tests.faults.ledger import RecordingApi, check_ledger, run


def test_a_dlt_load_failure_is_one_line_with_its_cause_and_the_rows_wait(tmp_path):
    path = tmp_path / "lnhm.duckdb"
    with duckdb.connect(str(path)) as con:  # a raw table dlt cannot evolve (someone made it)
        con.execute("create schema raw")
        con.execute("create table raw.plant_readings (plant_id varchar, recording_taken date)")
        con.execute("insert into raw.plant_readings values ('x', '2020-01-01')")
    env = {"LNHM_DUCKDB_PATH": str(path), "LNHM_PLANT_IDS": "1-10", "LNHM_HTTP_RETRIES": "0"}
    with RecordingApi() as api:
        env["LNHM_API_URL"] = api.url
        result = run(env, "ingest", "poll")
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        [line] = lines
        assert line.startswith("ingest: failed: dlt load step failed (package ")
        # DuckDB's own reason, not dlt's advice or a traceback
        assert "Adding columns with constraints not yet supported" in line
        assert "Traceback" not in line and "Pending packages" not in line
        assert "the next run" in line
        record = json.loads(result.stdout.strip().splitlines()[-1])
        assert record["outcome"] == "failed"
        assert "Adding columns with constraints" in record["error"]

        with duckdb.connect(str(path)) as con:  # the operator repairs the table
            con.execute("drop table raw.plant_readings")
        again = run(env, "ingest", "poll")
        assert again.returncode == 0 and again.stderr.strip() == "", again.stderr
    check_ledger(env, api)  # the failed run's readings loaded too
