"""Short sessions on the hot store and the alerts' own bookkeeping tables.

The hot store is the DuckDB file (one writing process at a time, so every session holds
``lnhm.locking.writer_lock``) or PostgreSQL (sessions need no lock). Alerts write only their own
schema ``alerts``:

- ``alerts.sent_alerts``: one row per delivered message, unique on (alert_key, message_kind), so
  a rerun never sends the same message twice. A row is written only after delivery succeeded.
- ``alerts.store_size_history``: the hot store's size over time, for growth per day.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lnhm.locking import writer_lock
from lnhm.settings import Settings

DDL = (
    "create table if not exists alerts.sent_alerts ("
    " alert_key text not null,"
    " message_kind text not null,"
    " match_key text not null,"
    " audience text not null,"
    " recipient text not null,"
    " subject text not null,"
    " details text,"
    " sent_at timestamp not null,"
    " primary key (alert_key, message_kind))",
    "create table if not exists alerts.store_size_history ("
    " measured_at timestamp not null primary key,"
    " size_bytes bigint not null)",
)


def utc_naive(value: Any) -> Any:
    """Timestamps as naive UTC (the marts' convention), whatever the driver returned."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _load_details(text: str | None) -> dict:
    """Stored details; ``*_at`` values come back as datetimes."""
    details = json.loads(text or "{}")
    for key, value in details.items():
        if key.endswith("_at") and isinstance(value, str):
            with contextlib.suppress(ValueError):
                details[key] = utc_naive(datetime.fromisoformat(value))
    return details


@dataclass
class Store:
    conn: Any
    dialect: str  # "duckdb" | "postgres"

    def _sql(self, sql: str) -> str:
        return sql.replace("%s", "?") if self.dialect == "duckdb" else sql

    def rows(self, sql: str, params: tuple | list = ()) -> list[dict]:
        cur = self.conn.cursor()
        try:
            cur.execute(self._sql(sql), list(params))
            names = [d[0] for d in cur.description]
            return [
                {name: utc_naive(value) for name, value in zip(names, row, strict=True)}
                for row in cur.fetchall()
            ]
        finally:
            cur.close()

    def scalar(self, sql: str, params: tuple | list = ()) -> Any:
        rows = self.rows(sql, params)
        return next(iter(rows[0].values())) if rows else None

    def execute(self, sql: str, params: tuple | list = ()) -> None:
        cur = self.conn.cursor()
        try:
            cur.execute(self._sql(sql), list(params))
        finally:
            cur.close()
        if self.dialect == "postgres":
            self.conn.commit()

    def has_table(self, schema: str, table: str) -> bool:
        return bool(
            self.scalar(
                "select count(*) from information_schema.tables"
                " where table_schema = %s and table_name = %s",
                (schema, table),
            )
        )

    def has_schema(self, schema: str) -> bool:
        return bool(
            self.scalar(
                "select count(*) from information_schema.schemata where schema_name = %s",
                (schema,),
            )
        )

    def ensure_alert_tables(self) -> None:
        if not self.has_schema("alerts"):
            self.execute("create schema if not exists alerts")
        for statement in DDL:
            self.execute(statement)

    # --- sent alerts -------------------------------------------------------------------
    def sent_keys(self, message_kind: str) -> set[str]:
        rows = self.rows(
            "select alert_key from alerts.sent_alerts where message_kind = %s", (message_kind,)
        )
        return {row["alert_key"] for row in rows}

    def open_incidents(self, audience: str) -> list[dict]:
        """Problems already announced whose recovery has not been sent yet."""
        rows = self.rows(
            "select p.alert_key, p.match_key, p.recipient, p.subject, p.details, p.sent_at"
            " from alerts.sent_alerts as p"
            " where p.message_kind = 'problem' and p.audience = %s and not exists ("
            "  select 1 from alerts.sent_alerts as r"
            "  where r.alert_key = p.alert_key and r.message_kind = 'recovery')"
            " order by p.sent_at, p.alert_key",
            (audience,),
        )
        for row in rows:
            row["details"] = _load_details(row["details"])
        return rows

    def record_sent(
        self,
        *,
        alert_key: str,
        message_kind: str,
        match_key: str,
        audience: str,
        recipient: str,
        subject: str,
        details: dict,
        sent_at: datetime,
    ) -> None:
        self.execute(
            "insert into alerts.sent_alerts (alert_key, message_kind, match_key, audience,"
            " recipient, subject, details, sent_at) values (%s, %s, %s, %s, %s, %s, %s, %s)"
            " on conflict do nothing",
            (
                alert_key,
                message_kind,
                match_key,
                audience,
                recipient,
                subject,
                json.dumps(details, default=str, sort_keys=True),
                utc_naive(sent_at),
            ),
        )


@contextlib.contextmanager
def session(settings: Settings, job: str = "alerts") -> Iterator[Store]:
    """A short session on the hot store; on DuckDB it holds the writer lock throughout."""
    if settings.warehouse == "duckdb":
        import duckdb

        with writer_lock(settings, job=job):
            settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
            conn = duckdb.connect(str(settings.duckdb_path))
            try:
                yield Store(conn, "duckdb")
            finally:
                conn.close()
    else:
        import psycopg2

        conn = psycopg2.connect(settings.postgres_dsn(), application_name=f"lnhm-{job}")
        try:
            yield Store(conn, "postgres")
            conn.commit()
        finally:
            conn.close()
