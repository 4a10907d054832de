"""What the hot store holds, asked before a job relies on it (one clear line when it is empty)."""

from __future__ import annotations

import duckdb

from lnhm.settings import Settings

RAW_TABLES = ("plant_readings", "plant_fetch_failures", "ingest_runs")


def _raw_tables_sql() -> str:
    names = ", ".join(f"'{name}'" for name in RAW_TABLES)
    return (
        "select table_name from information_schema.tables "
        f"where table_schema = 'raw' and table_name in ({names})"
    )


def missing_raw_tables(settings: Settings) -> str | None:
    """Why the hot store cannot be transformed yet (no file, no raw tables), or None.

    On DuckDB the caller holds the writer lock, so the short read-only open does not race a job.
    """
    if settings.warehouse == "duckdb":
        path = settings.duckdb_path
        if not path.exists():
            return f"the hot store {path} does not exist yet: run make ingest first"
        with duckdb.connect(str(path), read_only=True) as con:
            found = {row[0] for row in con.execute(_raw_tables_sql()).fetchall()}
        where = str(path)
    else:
        import psycopg2

        conn = psycopg2.connect(settings.postgres_dsn(), application_name="lnhm-check")
        try:
            with conn.cursor() as cur:
                cur.execute(_raw_tables_sql())
                found = {row[0] for row in cur.fetchall()}
        finally:
            conn.close()
        pg = settings.pg
        where = f"PostgreSQL {pg['host']}:{pg['port']}/{pg['dbname']}"
    missing = [name for name in RAW_TABLES if name not in found]
    if not missing:
        return None
    shown = ", ".join(f"raw.{name}" for name in missing)
    return f"the hot store {where} has no {shown} yet: run make ingest first"
