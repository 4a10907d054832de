"""deploy/postgres/roles.sql on a real PostgreSQL: each role can do its job and not the others'."""

from __future__ import annotations

import os
import subprocess

import psycopg2
import psycopg2.errors
import pytest

from harness.services import ROOT

ROLES_SQL = ROOT / "deploy" / "postgres" / "roles.sql"


def apply_roles(env: dict[str, str]) -> None:
    """Run the script the way an operator does: psql, stop at the first error."""
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(ROLES_SQL)],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
    )


class As:
    """A connection logged in as one role (the test server trusts loopback logins)."""

    def __init__(self, env: dict[str, str], role: str):
        self.role = role
        self.conn = psycopg2.connect(
            host=env["PGHOST"], port=env["PGPORT"], dbname=env["PGDATABASE"], user=role
        )
        self.conn.autocommit = True

    def run(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def refused(self, sql: str) -> bool:
        """True when PostgreSQL refuses ``sql`` for lack of privilege."""
        try:
            self.run(sql)
        except psycopg2.errors.InsufficientPrivilege:
            return True
        return False

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def db(postgres_env):
    apply_roles(postgres_env)
    opened: list[As] = []

    def login(role: str) -> As:
        conn = As(postgres_env, role)
        opened.append(conn)
        return conn

    yield login
    for conn in opened:
        conn.close()


def test_script_is_idempotent_and_keeps_grants(postgres_env):
    apply_roles(postgres_env)
    loader = As(postgres_env, "lnhm_loader")
    loader.run("create table raw.plant_readings (plant_id bigint, recording_taken text)")
    apply_roles(postgres_env)  # again, with data present
    apply_roles(postgres_env)
    transformer = As(postgres_env, "lnhm_transformer")
    assert transformer.run("select count(*) from raw.plant_readings") == [(0,)]
    loader.close()
    transformer.close()


def test_loader_writes_raw_only(db):
    loader = db("lnhm_loader")
    # what dlt does: create and evolve tables in raw and raw_staging, insert, merge, delete
    loader.run("create table raw.plant_readings (plant_id bigint, recording_taken text)")
    loader.run("alter table raw.plant_readings add column fetched_at timestamptz")
    loader.run("insert into raw.plant_readings values (1, '2026-11-28 10:00:00', now())")
    loader.run("create table raw_staging.plant_readings as select * from raw.plant_readings")
    loader.run("delete from raw.plant_readings where plant_id = 2")
    assert loader.run("select count(*) from raw.plant_readings") == [(1,)]

    db("lnhm_transformer").run("create table marts.plant_status (plant_id bigint)")
    assert loader.refused("select * from marts.plant_status")
    assert loader.refused("insert into marts.plant_status values (1)")
    assert loader.refused("create table marts.sneaky (x int)")
    assert loader.refused("create table staging.sneaky (x int)")
    assert loader.refused("create table public.sneaky (x int)")
    assert loader.refused("create schema sneaky")


def test_transformer_reads_raw_and_writes_the_dbt_schemas(db):
    loader, transformer = db("lnhm_loader"), db("lnhm_transformer")
    loader.run("create table raw.plant_readings (plant_id bigint, soil_moisture double precision)")
    loader.run("insert into raw.plant_readings values (1, 42.5)")

    # what dbt does: views in staging/intermediate, tables swapped in marts, seeds, snapshots
    transformer.run("create view staging.stg_readings as select * from raw.plant_readings")
    transformer.run("create view intermediate.int_readings as select * from staging.stg_readings")
    transformer.run(
        "create table marts.fct_readings__dbt_tmp as select * from intermediate.int_readings"
    )
    transformer.run("alter table marts.fct_readings__dbt_tmp rename to fct_readings")
    transformer.run("create table seeds.care_thresholds (plant_id bigint)")
    transformer.run("create table snapshots.plant_botanist_snapshot (plant_id bigint)")
    transformer.run("delete from marts.fct_readings where plant_id = 99")
    assert transformer.run("select soil_moisture from marts.fct_readings") == [(42.5,)]

    assert transformer.refused("insert into raw.plant_readings values (2, 1.0)")
    assert transformer.refused("delete from raw.plant_readings")
    assert transformer.refused("create table raw.sneaky (x int)")
    assert transformer.refused("drop table raw.plant_readings")
    assert transformer.refused("create schema sneaky")


def test_reporter_reads_marts_only(db):
    loader, transformer, reporter = db("lnhm_loader"), db("lnhm_transformer"), db("lnhm_reporter")
    loader.run("create table raw.plant_readings (plant_id bigint)")
    transformer.run("create view staging.stg_readings as select * from raw.plant_readings")
    # a mart created after the roles were set up (default privileges cover it)
    transformer.run("create table marts.plant_status as select 7 as plant_id")
    assert reporter.run("select plant_id from marts.plant_status") == [(7,)]

    assert reporter.refused("select * from raw.plant_readings")
    assert reporter.refused("select * from staging.stg_readings")
    assert reporter.refused("insert into marts.plant_status values (8)")
    assert reporter.refused("delete from marts.plant_status")
    assert reporter.refused("create table marts.sneaky (x int)")


def test_alerter_reads_marts_and_raw_and_writes_only_alerts(db):
    loader, transformer, alerter = db("lnhm_loader"), db("lnhm_transformer"), db("lnhm_alerter")
    loader.run("create table raw.ingest_runs (run_id text, outcome text)")
    transformer.run("create table marts.anomalies as select 'a' as anomaly_id")
    assert alerter.run("select count(*) from raw.ingest_runs") == [(0,)]
    assert alerter.run("select anomaly_id from marts.anomalies") == [("a",)]
    alerter.run("create table alerts.sent_alerts (alert_key text primary key)")
    alerter.run("insert into alerts.sent_alerts values ('k') on conflict do nothing")
    assert alerter.run("select pg_database_size(current_database()) > 0") == [(True,)]

    assert alerter.refused("insert into marts.anomalies values ('b')")
    assert alerter.refused("insert into raw.ingest_runs values ('r', 'ok')")
    assert db("lnhm_reporter").refused("select * from alerts.sent_alerts")


def test_archiver_prunes_but_never_writes(db):
    loader, transformer, archiver = db("lnhm_loader"), db("lnhm_transformer"), db("lnhm_archiver")
    loader.run("create table raw.plant_readings (plant_id bigint)")
    loader.run("insert into raw.plant_readings values (1), (2)")
    transformer.run("create table marts.fct_readings as select 1 as plant_id")
    archiver.run("delete from raw.plant_readings where plant_id = 1")
    archiver.run("delete from marts.fct_readings where plant_id = 1")
    assert archiver.run("select count(*) from raw.plant_readings") == [(1,)]

    assert archiver.refused("insert into raw.plant_readings values (3)")
    assert archiver.refused("update marts.fct_readings set plant_id = 2")
    assert archiver.refused("drop table marts.fct_readings")


def test_tables_created_before_the_script_pass_to_the_schema_owner(postgres_env):
    admin = psycopg2.connect(
        **{
            "host": postgres_env["PGHOST"],
            "port": postgres_env["PGPORT"],
            "dbname": postgres_env["PGDATABASE"],
            "user": postgres_env["PGUSER"],
        }
    )
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("create schema raw")
        cur.execute("create table raw.plant_readings (plant_id bigint)")
    admin.close()
    apply_roles(postgres_env)
    loader = As(postgres_env, "lnhm_loader")
    loader.run("alter table raw.plant_readings add column name text")  # owner-only operation
    assert As(postgres_env, "lnhm_transformer").run("select count(*) from raw.plant_readings") == [
        (0,)
    ]
    loader.close()
