"""What the hot store holds, asked before a job relies on it (one clear line when it is empty),
and how a new DuckDB hot store file is made."""

from __future__ import annotations

from pathlib import Path

import duckdb

from lnhm.settings import Settings

RAW_TABLES = ("plant_readings", "plant_fetch_failures", "ingest_runs")

# A DuckDB table takes at least one block on disk, and the hot store holds about fifty tables,
# most of them a few rows (seeds, dimensions, report marts). With DuckDB's default 256 KB block
# that was a third of a 50-plant file; 64 KB blocks hold 50 plants x 48 h in 20 MB instead of
# 31 MB, cost 3 % more at 1,000 plants (larger tables compress a little less per block), and
# query as fast. A file's block size is fixed when it is created.
DUCKDB_BLOCK_SIZE = 65_536


def create_duckdb_file(path: Path) -> None:
    """Create an empty DuckDB hot store at `path` with DUCKDB_BLOCK_SIZE blocks (if it is new)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    quoted = str(path).replace("'", "''")
    with duckdb.connect() as con:
        con.execute(f"attach '{quoted}' as hot (block_size {DUCKDB_BLOCK_SIZE})")


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
