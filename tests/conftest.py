"""Session fixtures that start real services once: PostgreSQL, S3 (moto server), the simulator,
headless Chromium."""

from __future__ import annotations

import os
import tempfile

import pytest

from harness import services

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

# The slowest test files, longest first (make test --durations): pytest-xdist's loadfile hands
# files to the two workers in collection order (make test passes --no-loadscope-reorder), so the
# long ones start at once, side by side, and the run ends on short files instead of one worker
# finishing a long file alone. The other files follow in name order.
SLOWEST_FIRST = [
    "tests/test_alerts_replay_day.py",
    "tests/test_alerts_replay_night.py",
    "tests/test_incidents.py",
    "tests/test_dbt.py",
    "tests/test_early_warnings.py",
]


def pytest_collection_modifyitems(items):
    def rank(item) -> int:
        name = item.nodeid.split("::")[0]
        return SLOWEST_FIRST.index(name) if name in SLOWEST_FIRST else len(SLOWEST_FIRST)

    items.sort(key=rank)  # stable: tests keep their order within a file


@pytest.fixture(scope="session")
def postgres():
    """A private PostgreSQL 15 server; ``postgres.new_database()`` gives PG* variables."""
    server = services.start_postgres()
    yield server
    server.stop()


@pytest.fixture
def postgres_env(postgres) -> dict[str, str]:
    """PG* variables for a fresh, empty database on the session's server."""
    return postgres.new_database()


@pytest.fixture(scope="session")
def s3():
    """moto's S3 server as its own process: ``s3.env`` (AWS_* variables), ``s3.make_bucket()``."""
    server = services.start_s3()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def simulator_server():
    """Factory: ``simulator_server("--plants", "50", ...)`` starts one and returns its base URL."""
    started: list[services.Simulator] = []

    def start(*args: str) -> str:
        sim = services.start_simulator(*args)
        started.append(sim)
        return sim.url

    yield start
    for sim in started:
        sim.stop()


@pytest.fixture(scope="session")
def chromium():
    """A Selenium WebDriver for Debian's headless Chromium."""
    with tempfile.TemporaryDirectory(prefix="lnhm-chromium-") as profile:
        driver = services.chromium_driver(profile)
        yield driver
        driver.quit()


@pytest.fixture(scope="session")
def chain(tmp_path_factory):
    """The real chain once per session (tests/chain.py): 72 h of 6 plants ending 12:30 UTC,
    dbt build, archive (at least one archived day), dbt build, reports; plant 3 is named like
    an XSS attack in the API's answers."""
    from tests.chain import XSS, XSS_ID, build_chain

    return build_chain(tmp_path_factory.mktemp("chain"), rename={XSS_ID: XSS})
