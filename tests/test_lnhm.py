"""The shared library: configuration errors name their variable, locks exclude, job logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from lnhm import joblog, locking
from lnhm.settings import REAL_API_URL, ConfigError, from_env, parse_id_ranges


def test_defaults_serve_the_embedded_setup():
    settings = from_env({})
    assert settings.api_url == REAL_API_URL
    assert settings.plant_ids == tuple(range(1, 51))
    assert settings.warehouse == "duckdb"
    assert settings.duckdb_path == Path("data/lnhm.duckdb")
    assert settings.archive_url == "data/archive"
    assert settings.reports_dir == Path("build/reports")
    assert settings.retention_hours == 24


def test_plant_id_ranges_are_parsed():
    assert parse_id_ranges("1-3, 7,10-11") == (1, 2, 3, 7, 10, 11)
    assert parse_id_ranges("5,5,4") == (4, 5)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"LNHM_PLANT_IDS": "1-x"}, "LNHM_PLANT_IDS"),
        ({"LNHM_PLANT_IDS": "9-3"}, "LNHM_PLANT_IDS"),
        ({"LNHM_WAREHOUSE": "sqlite"}, "LNHM_WAREHOUSE"),
        ({"LNHM_API_URL": "ftp://example"}, "LNHM_API_URL"),
        ({"LNHM_ARCHIVE_URL": "gs://bucket"}, "LNHM_ARCHIVE_URL"),
        ({"LNHM_HTTP_TIMEOUT": "soon"}, "LNHM_HTTP_TIMEOUT"),
        ({"LNHM_HTTP_CONCURRENCY": "0"}, "LNHM_HTTP_CONCURRENCY"),
        ({"PGPORT": "fivefourthreetwo"}, "PGPORT"),
        ({"LNHM_SMTP_TLS": "maybe"}, "LNHM_SMTP_TLS"),
    ],
)
def test_invalid_configuration_names_the_variable_in_one_line(env, variable):
    with pytest.raises(ConfigError) as error:
        from_env(env)
    message = str(error.value)
    assert message.startswith(f"{variable}: ")
    assert "\n" not in message


def test_default_concurrency_fits_the_plant_count_within_a_bound():
    assert from_env({"LNHM_PLANT_IDS": "1-50"}).http_concurrency == 50
    assert from_env({"LNHM_PLANT_IDS": "7"}).http_concurrency == 1
    assert from_env({"LNHM_PLANT_IDS": "1-10000"}).http_concurrency == 1000
    assert from_env({"LNHM_PLANT_IDS": "1-50", "LNHM_HTTP_CONCURRENCY": "8"}).http_concurrency == 8


def test_postgres_settings_follow_libpq_variables():
    settings = from_env(
        {
            "PGHOST": "db.example",
            "PGPORT": "6543",
            "PGUSER": "loader",
            "PGPASSWORD": "p@ss word",
            "PGDATABASE": "plants",
        }
    )
    assert settings.postgres_dsn() == "postgresql://loader:p%40ss%20word@db.example:6543/plants"
    assert "password=p@ss word" not in repr(settings)


def test_a_second_duckdb_writer_waits_then_gives_up(tmp_path):
    settings = from_env(
        {"LNHM_DUCKDB_PATH": str(tmp_path / "w.duckdb"), "LNHM_LOCK_TIMEOUT": "0.5"}
    )
    with locking.writer_lock(settings, job="first"):
        started = time.monotonic()
        with pytest.raises(locking.LockTimeout) as error:
            with locking.writer_lock(settings, job="second"):
                pass
        assert 0.4 < time.monotonic() - started < 5
        assert "held by first" in str(error.value)
    with locking.writer_lock(settings, job="third"):
        pass  # released once the first writer is done


def test_a_waiting_writer_gets_the_lock_when_it_is_released(tmp_path):
    settings = from_env({"LNHM_DUCKDB_PATH": str(tmp_path / "w.duckdb"), "LNHM_LOCK_TIMEOUT": "10"})
    order = []

    def first():
        with locking.writer_lock(settings, job="first"):
            order.append("first in")
            time.sleep(0.5)
            order.append("first out")

    thread = threading.Thread(target=first)
    thread.start()
    time.sleep(0.1)
    with locking.writer_lock(settings, job="second"):
        order.append("second in")
    thread.join()
    assert order == ["first in", "first out", "second in"]


def test_postgres_writers_exclude_each_other(postgres_env):
    settings = from_env({**postgres_env, "LNHM_WAREHOUSE": "postgres", "LNHM_LOCK_TIMEOUT": "0.5"})
    with locking.writer_lock(settings, job="first"):
        with pytest.raises(locking.LockTimeout):
            with locking.writer_lock(settings, job="second"):
                pass
    with locking.writer_lock(settings, job="third"):
        pass


def _run_job_script(body: str) -> subprocess.CompletedProcess:
    script = f"import sys\nfrom lnhm import joblog\n{body}\nsys.exit(joblog.run_job('demo', main))"
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)


def test_a_job_logs_one_json_line_with_its_counts():
    result = _run_job_script("def main(counts):\n    counts['rows'] = 3")
    assert result.returncode == joblog.EXIT_OK
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["job"] == "demo" and record["outcome"] == "ok"
    assert record["counts"] == {"rows": 3}
    assert record["duration_s"] >= 0


@pytest.mark.parametrize(
    ("raise_line", "code", "outcome"),
    [
        ("raise RuntimeError('boom')", joblog.EXIT_FAILED, "failed"),
        (
            "from lnhm.settings import ConfigError; raise ConfigError('LNHM_X: bad')",
            joblog.EXIT_CONFIG,
            "failed",
        ),
        (
            "from lnhm.locking import LockTimeout; raise LockTimeout('busy')",
            joblog.EXIT_SKIPPED,
            "skipped",
        ),
    ],
)
def test_failures_exit_non_zero_with_one_line_on_stderr(raise_line, code, outcome):
    result = _run_job_script(f"def main(counts):\n    {raise_line}")
    assert result.returncode == code
    assert json.loads(result.stdout)["outcome"] == outcome
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_duckdb_connection_strings_leave_the_password_to_libpq():
    settings = from_env({"PGHOST": "db", "PGUSER": "u", "PGPASSWORD": "sekrit-value"})
    assert "sekrit" not in settings.postgres_libpq()
    assert settings.postgres_libpq() == "host=db port=5432 user=u dbname=u"


def test_a_failing_job_never_prints_a_secret():
    script = (
        "import os, sys\nfrom lnhm import joblog\n"
        "def main(counts):\n"
        "    raise RuntimeError('cannot connect: password=' + os.environ['PGPASSWORD'])\n"
        "sys.exit(joblog.run_job('demo', main))"
    )
    env = {**os.environ, "PGPASSWORD": "sekrit-value"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert result.returncode == joblog.EXIT_FAILED
    assert "sekrit" not in result.stdout + result.stderr
    assert "password=***" in result.stderr
