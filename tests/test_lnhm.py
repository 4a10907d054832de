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
    assert str(settings.timezone) == "Europe/London"
    assert str(from_env({"LNHM_TIMEZONE": "America/New_York"}).timezone) == "America/New_York"


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
        ({"LNHM_OPS_CAPACITY_WARN_PCT": "120"}, "LNHM_OPS_CAPACITY_WARN_PCT"),
        ({"LNHM_ALERT_WATERING_HOURS": "a day"}, "LNHM_ALERT_WATERING_HOURS"),
        ({"LNHM_ALERT_AFTER_MINUTES": "half an hour"}, "LNHM_ALERT_AFTER_MINUTES"),
        ({"LNHM_REPORTS_URL": "plants.example.org/site"}, "LNHM_REPORTS_URL"),
        # values that used to write somewhere unexpected instead of failing (issue 10)
        ({"LNHM_ARCHIVE_URL": "s3://"}, "LNHM_ARCHIVE_URL"),
        ({"LNHM_ARCHIVE_URL": "s3:///prefix"}, "LNHM_ARCHIVE_URL"),
        ({"LNHM_ARCHIVE_URL": "s3:/bucket/prefix"}, "LNHM_ARCHIVE_URL"),
        ({"LNHM_ARCHIVE_URL": "s3:"}, "LNHM_ARCHIVE_URL"),
        ({"LNHM_ARCHIVE_URL": "S3://bucket"}, "LNHM_ARCHIVE_URL"),
        ({"LNHM_ARCHIVE_URL": "s3://My_Bucket/x"}, "LNHM_ARCHIVE_URL"),
        ({"LNHM_ARCHIVE_URL": "s3://bucket//x"}, "LNHM_ARCHIVE_URL"),
        ({"LNHM_ARCHIVE_URL": "file:///srv/archive"}, "LNHM_ARCHIVE_URL"),
        ({"LNHM_DUCKDB_PATH": ":memory:"}, "LNHM_DUCKDB_PATH"),
        ({"LNHM_DUCKDB_PATH": "md:lnhm"}, "LNHM_DUCKDB_PATH"),
        ({"LNHM_DUCKDB_PATH": "postgresql://db/lnhm"}, "LNHM_DUCKDB_PATH"),
        ({"LNHM_DUCKDB_PATH": "data/"}, "LNHM_DUCKDB_PATH"),
        ({"LNHM_REPORTS_DIR": "s3://bucket/site"}, "LNHM_REPORTS_DIR"),
        ({"LNHM_OUTBOX_DIR": "smtp://mail.example"}, "LNHM_OUTBOX_DIR"),
        ({"LNHM_SMTP_HOST": "smtp://mail.example:587"}, "LNHM_SMTP_HOST"),
        ({"LNHM_MAIL_FROM": "plants"}, "LNHM_MAIL_FROM"),
        ({"LNHM_OPERATOR_EMAIL": "a@example.org, b@example.org"}, "LNHM_OPERATOR_EMAIL"),
        ({"LNHM_PROBLEM_EMAIL": "data team"}, "LNHM_PROBLEM_EMAIL"),
        (
            {"LNHM_ARCHIVE_URL": "s3://b-1/x", "AWS_ENDPOINT_URL": "localhost:9000"},
            "AWS_ENDPOINT_URL",
        ),
        ({"DLT_DATA_DIR": "s3://bucket/dlt"}, "DLT_DATA_DIR"),
        ({"LNHM_TIMEZONE": "Europe/Atlantis"}, "LNHM_TIMEZONE"),
        ({"LNHM_TIMEZONE": "BST"}, "LNHM_TIMEZONE"),
        ({"LNHM_TIMEZONE": "Europe"}, "LNHM_TIMEZONE"),  # a folder of the zone database
        ({"LNHM_TIMEZONE": "/etc/localtime"}, "LNHM_TIMEZONE"),
        ({"LNHM_TIMEZONE": "../Europe/London"}, "LNHM_TIMEZONE"),
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


def test_paths_that_exist_as_the_wrong_kind_are_refused(tmp_path):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    for variable in ("LNHM_ARCHIVE_URL", "LNHM_REPORTS_DIR", "LNHM_OUTBOX_DIR", "DLT_DATA_DIR"):
        with pytest.raises(ConfigError, match=f"^{variable}: .* is a file, expected a folder"):
            from_env({variable: str(a_file)})
    with pytest.raises(ConfigError, match="^LNHM_DUCKDB_PATH: .* is a folder"):
        from_env({"LNHM_DUCKDB_PATH": str(tmp_path)})


def test_valid_locations_are_kept_as_given():
    settings = from_env(
        {
            "LNHM_ARCHIVE_URL": "s3://lnhm-archive/prod/",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
            "LNHM_MAIL_FROM": "LNHM plants <plants@lnhm.example>",
            "LNHM_SMTP_HOST": "smtp.example.org",
        }
    )
    assert settings.archive_url == "s3://lnhm-archive/prod"
    assert settings.s3_endpoint == "http://127.0.0.1:9000"
    assert from_env({"LNHM_ARCHIVE_URL": "s3://lnhm-archive"}).archive_url == "s3://lnhm-archive"
    assert from_env({"LNHM_ARCHIVE_URL": "/srv/archive/"}).archive_url == "/srv/archive"
    # an endpoint for other tools does not matter while the archive is a local folder
    assert from_env({"AWS_ENDPOINT_URL": "localhost:9000"}).s3_endpoint == ""


def test_alert_thresholds_live_in_the_one_settings_module():
    settings = from_env({"LNHM_ALERT_WATERING_HOURS": "30", "LNHM_OPS_STALE_MINUTES": "5"})
    assert settings.alerts.watering_hours == 30
    assert settings.alerts.stale_minutes == 5
    assert settings.alerts.ingest_failed_runs == 3  # default
    assert not (Path(__file__).parents[1] / "alerts" / "config.py").exists()


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


def _chained_failure():
    try:
        try:
            raise OSError("Could not set lock on file\n  held by PID 42")
        except OSError as inner:
            raise ConnectionError("Connection failed. The reason: Could not set lock") from inner
    except ConnectionError:
        # no "from": the implicit context (an error while handling another) is followed too
        raise RuntimeError("Pipeline execution failed at load with exception:\n\nsee below")  # noqa: B904


def test_a_failure_is_described_with_its_whole_chain_on_one_line():
    with pytest.raises(RuntimeError) as error:
        _chained_failure()
    text = joblog.describe(error.value)
    assert "\n" not in text
    assert text == (
        "RuntimeError: Pipeline execution failed at load with exception: see below"
        " <- caused by ConnectionError: Connection failed. The reason: Could not set lock"
        " <- caused by OSError: Could not set lock on file held by PID 42"
    )
    try:
        raise RuntimeError("outer") from None
    except RuntimeError as exc:
        assert joblog.describe(exc) == "RuntimeError: outer"  # an explicit `from None` is kept


def test_a_job_failure_line_carries_the_cause_redacted_and_stays_one_line():
    script = (
        "import os, sys\nfrom lnhm import joblog\n"
        "def main(counts):\n"
        "    try:\n"
        "        raise OSError('password authentication failed for user \"loader\"\\n'\n"
        "                      'password=' + os.environ['PGPASSWORD'])\n"
        "    except OSError as exc:\n"
        "        raise joblog.JobFailed('cannot open the hot store') from exc\n"
        "sys.exit(joblog.run_job('demo', main))"
    )
    env = {**os.environ, "PGPASSWORD": "sekrit-value"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert result.returncode == joblog.EXIT_FAILED
    [line] = result.stdout.strip().splitlines()
    record = json.loads(line)
    assert record["outcome"] == "failed" and record["exit_code"] == joblog.EXIT_FAILED
    assert record["error"] == (
        "JobFailed: cannot open the hot store <- caused by OSError: password authentication "
        'failed for user "loader" password=***'
    )
    [stderr] = result.stderr.strip().splitlines()
    assert stderr == (
        "demo: failed: cannot open the hot store <- caused by OSError: password authentication "
        'failed for user "loader" password=***'
    )


def test_a_secret_with_whitespace_is_redacted_before_the_line_is_joined(monkeypatch):
    monkeypatch.setenv("LNHM_SMTP_PASSWORD", "two  spaces\tand a tab")
    try:
        raise RuntimeError("login failed for two  spaces\tand a tab\nat the server")
    except RuntimeError as exc:
        assert joblog.describe(exc) == "RuntimeError: login failed for *** at the server"
