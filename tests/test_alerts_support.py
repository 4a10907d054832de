"""Shared fixtures for the alert tests: a hot store with hand-made marts rows, a real SMTP server.

The marts are created here with the contract's columns (not by dbt), so the alert rules are
tested against rows whose expected messages are known independently.
"""

from __future__ import annotations

import csv
import email
import email.policy
import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from alerts.store import session
from harness.services import ROOT, free_port
from lnhm.settings import from_env

MARTS_DDL = (
    "create schema if not exists marts",
    "create schema if not exists raw",
    "create table marts.plant_status (plant_id bigint, plant_name text, botanist_id bigint,"
    " botanist_name text, botanist_email text, latest_recorded_at timestamp,"
    " minutes_since_reading double precision, soil_moisture_pct double precision,"
    " temperature_c double precision, last_watered_at timestamp,"
    " hours_since_watered double precision, moisture_trend_pct_per_hour double precision,"
    " dry_expected_at timestamp, is_missing boolean, is_on_loan boolean,"
    " is_sensor_faulting boolean, open_incidents bigint, status text)",
    "create table marts.fct_incidents (incident_id text, plant_id bigint, kind text,"
    " severity text, started_at timestamp, ended_at timestamp, is_open boolean,"
    " worst_value double precision, threshold double precision, readings bigint,"
    " last_seen_at timestamp, is_ended_by_gap boolean)",
    # a table here (a view over fct_incidents in dbt): the tests say which alerts are held
    "create table marts.incident_alerts (incident_id text, plant_id bigint, kind text,"
    " label text, advice text, audience text, severity text, started_at timestamp,"
    " worst_value double precision, threshold double precision, readings bigint,"
    " last_seen_at timestamp, worst_value_label text, worst_value_unit text,"
    " worst_value_digits integer, is_held boolean)",
    "create table marts.early_warnings (warning_id text, plant_id bigint,"
    " last_watered_at timestamp, next_watering_at timestamp, dry_expected_at timestamp,"
    " hours_dry_before_watering double precision, soil_moisture_pct double precision,"
    " soil_moisture_pct_min double precision)",
    "create table marts.dim_incident_kinds (code text, label text, severity text,"
    " audience text, advice text, worst_value_label text, worst_value_unit text,"
    " worst_value_digits integer)",
    "create table marts.dim_botanists (botanist_id bigint, botanist_name text,"
    " botanist_email text, is_email_valid boolean, phone_digits text, phone_extension text,"
    " phone_original text, plants_count bigint)",
    "create table marts.dim_plants (plant_id bigint, plant_name text, botanist_id bigint,"
    " botanist_name text, botanist_email text)",
    "create table marts.fct_readings (reading_id text, plant_id bigint, recorded_at timestamp)",
    "create table raw.plant_readings (plant_id bigint, recording_taken text,"
    " fetched_at timestamp with time zone, run_id text)",
    "create table raw.ingest_runs (run_id text, started_at timestamp with time zone,"
    " finished_at timestamp with time zone, plants_polled bigint, readings bigint,"
    " failures bigint, outcome text)",
)


KIND_COLUMNS = (
    "code",
    "label",
    "severity",
    "audience",
    "advice",
    "worst_value_label",
    "worst_value_unit",
    "worst_value_digits",
)


def incident_kinds() -> dict[str, dict]:
    """The seed incident_kinds as dbt loads it (the words the e-mails must show)."""
    with (ROOT / "seeds" / "incident_kinds.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["worst_value_digits"] = int(row["worst_value_digits"])
    return {row["code"]: row for row in rows}


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


@dataclass
class Hot:
    """A hot store (DuckDB file or PostgreSQL database) and the environment that reaches it."""

    kind: str
    env: dict[str, str]

    @property
    def settings(self):
        return from_env({**os.environ, **self.env})

    def sql(self, statement: str, params: tuple | list = ()) -> None:
        with session(self.settings, job="test") as store:
            store.execute(statement, params)

    def rows(self, statement: str, params: tuple | list = ()) -> list[dict]:
        with session(self.settings, job="test") as store:
            return store.rows(statement, params)

    def create_marts(self) -> None:
        for statement in MARTS_DDL:
            self.sql(statement)
        for kind in incident_kinds().values():
            self.sql(
                "insert into marts.dim_incident_kinds (code, label, severity, audience, advice,"
                " worst_value_label, worst_value_unit, worst_value_digits)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s)",
                [kind[c] for c in KIND_COLUMNS],
            )

    def add_plant(
        self,
        plant_id: int,
        name: str,
        botanist_id: int = 1,
        botanist: str = "Carl Linnaeus",
        address: str = "carl@lnhm.example",
        valid: bool = True,
        moisture: float = 55.0,
        temperature: float = 12.5,
        hours_since_watered: float = 3.0,
        missing: bool = False,
        on_loan: bool = False,
        status: str = "ok",
        dry_expected_at=None,
    ) -> None:
        now = utcnow()
        watered = None
        if hours_since_watered is not None:
            watered = now - timedelta(hours=hours_since_watered)
        self.sql(
            "insert into marts.plant_status (plant_id, plant_name, botanist_id, botanist_name,"
            " botanist_email, latest_recorded_at, minutes_since_reading, soil_moisture_pct,"
            " temperature_c, last_watered_at, hours_since_watered, is_missing, is_on_loan,"
            " is_sensor_faulting, open_incidents, status, dry_expected_at)"
            " values (%s, %s, %s, %s, %s, %s, 1, %s, %s, %s, %s, %s, %s, false, 0, %s, %s)",
            (
                plant_id,
                name,
                botanist_id,
                botanist,
                address,
                now,
                moisture,
                temperature,
                watered,
                hours_since_watered,
                missing,
                on_loan,
                status,
                dry_expected_at,
            ),
        )
        if not self.rows(
            "select 1 as x from marts.dim_botanists where botanist_id = %s", (botanist_id,)
        ):
            self.sql(
                "insert into marts.dim_botanists (botanist_id, botanist_name, botanist_email,"
                " is_email_valid, plants_count) values (%s, %s, %s, %s, 1)",
                (botanist_id, botanist, address, valid),
            )

    def add_warning(
        self, warning_id: str, plant_id: int, watered_at, next_watering_at, dry_expected_at
    ) -> None:
        """A marts.early_warnings row: plant_id dry at dry_expected_at, before its watering."""
        hours = (next_watering_at - dry_expected_at).total_seconds() / 3600
        self.sql(
            "insert into marts.early_warnings values (%s, %s, %s, %s, %s, %s, 20.0, 5.0)",
            (warning_id, plant_id, watered_at, next_watering_at, dry_expected_at, hours),
        )

    def clear_warnings(self) -> None:
        self.sql("delete from marts.early_warnings")

    def add_incident(
        self,
        incident_id: str,
        plant_id: int | None,
        kind: str,
        started_at: datetime,
        worst_value: float | None = None,
        ended_at: datetime | None = None,
        readings: int = 5,
        threshold: float | None = None,
        held: bool = False,
    ) -> None:
        """A fct_incidents row and, while open, its marts.incident_alerts row."""
        k = incident_kinds()[kind]
        self.sql(
            "insert into marts.fct_incidents (incident_id, plant_id, kind, severity, started_at,"
            " ended_at, is_open, worst_value, threshold, readings, last_seen_at)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                incident_id,
                plant_id,
                kind,
                k["severity"],
                started_at,
                ended_at,
                ended_at is None,
                worst_value,
                threshold,
                readings,
                ended_at or utcnow(),
            ),
        )
        if ended_at is None:
            self.sql(
                "insert into marts.incident_alerts (incident_id, plant_id, kind, label, advice,"
                " audience, severity, started_at, worst_value, threshold, readings,"
                " last_seen_at, worst_value_label, worst_value_unit, worst_value_digits,"
                " is_held) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
                " %s, %s)",
                (
                    incident_id,
                    plant_id,
                    kind,
                    k["label"],
                    k["advice"],
                    k["audience"],
                    k["severity"],
                    started_at,
                    worst_value,
                    threshold,
                    readings,
                    utcnow(),
                    k["worst_value_label"],
                    k["worst_value_unit"],
                    k["worst_value_digits"],
                    held,
                ),
            )

    def end_incident(self, incident_id: str, ended_at: datetime, by_gap: bool = False) -> None:
        """Seen to end at `ended_at`, or (by_gap) its readings stopped after its last breach at
        `ended_at`: fct_incidents then ends it there (last_seen_at = ended_at)."""
        self.sql(
            "update marts.fct_incidents set ended_at = %s, is_open = false, is_ended_by_gap = %s"
            " where incident_id = %s",
            (ended_at, by_gap, incident_id),
        )
        if by_gap:
            self.sql(
                "update marts.fct_incidents set last_seen_at = %s where incident_id = %s",
                (ended_at, incident_id),
            )
        self.sql("delete from marts.incident_alerts where incident_id = %s", (incident_id,))

    def sent(self) -> list[dict]:
        return self.rows(
            "select alert_key, message_kind, match_key, audience, recipient, subject"
            " from alerts.sent_alerts order by sent_at, alert_key, message_kind"
        )


@pytest.fixture(params=["duckdb", "postgres"])
def hot(request, tmp_path) -> Hot:
    """An empty hot store of each kind, with the alert job's paths in a temp folder."""
    env = {
        "LNHM_OUTBOX_DIR": str(tmp_path / "outbox"),
        "LNHM_ARCHIVE_URL": str(tmp_path / "archive"),
        "LNHM_LOCK_TIMEOUT": "5",
        "LNHM_OPERATOR_EMAIL": "ops@lnhm.example",
        "LNHM_MAIL_FROM": "plants@lnhm.example",
        "LNHM_SMTP_HOST": "",
    }
    if request.param == "duckdb":
        env.update(LNHM_WAREHOUSE="duckdb", LNHM_DUCKDB_PATH=str(tmp_path / "lnhm.duckdb"))
    else:
        env.update(LNHM_WAREHOUSE="postgres", **request.getfixturevalue("postgres_env"))
    return Hot(request.param, env)


@pytest.fixture
def duck(tmp_path) -> Hot:
    """A DuckDB hot store only (for rules that do not depend on the store)."""
    return Hot(
        "duckdb",
        {
            "LNHM_WAREHOUSE": "duckdb",
            "LNHM_DUCKDB_PATH": str(tmp_path / "lnhm.duckdb"),
            "LNHM_OUTBOX_DIR": str(tmp_path / "outbox"),
            "LNHM_ARCHIVE_URL": str(tmp_path / "archive"),
            "LNHM_LOCK_TIMEOUT": "5",
            "LNHM_OPERATOR_EMAIL": "ops@lnhm.example",
            "LNHM_SMTP_HOST": "",
        },
    )


# --- a real SMTP server ------------------------------------------------------------------
@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage

    @property
    def subject(self) -> str:
        # Python's folding may put the whole value on a continuation line; unfold it.
        return str(self.message["Subject"]).strip()

    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()


@dataclass
class Inbox:
    """What the SMTP server received; ``refuse`` holds addresses it answers 550 to."""

    messages: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def take(self) -> list[Received]:
        with self.lock:
            taken, self.messages = self.messages, []
        return taken


@dataclass
class SmtpServer:
    inbox: Inbox
    port: int
    env: dict[str, str]


def start_smtp(**smtp_kwargs) -> tuple[Controller, SmtpServer]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **smtp_kwargs)
    controller.start()
    env = {"LNHM_SMTP_HOST": "127.0.0.1", "LNHM_SMTP_PORT": str(port), "LNHM_SMTP_TLS": "none"}
    return controller, SmtpServer(inbox, port, env)


@pytest.fixture
def smtp():
    """A plain SMTP server (aiosmtpd) on a free loopback port, in a thread."""
    controller, server = start_smtp()
    yield server
    controller.stop()


# --- running the job as cron would --------------------------------------------------------
@dataclass
class JobResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def log(self) -> dict:
        lines = [line for line in self.stdout.splitlines() if line.startswith("{")]
        assert len(lines) == 1, f"expected one JSON line, got: {self.stdout!r}"
        return json.loads(lines[0])


def run_job(env: dict[str, str], *args: str, timeout: float = 120) -> JobResult:
    """``python -m alerts <args>`` in a fresh process with ``env`` on top of ours."""
    proc = subprocess.run(
        [sys.executable, "-m", "alerts", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return JobResult(proc.returncode, proc.stdout, proc.stderr)


def read_outbox(folder: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]
