"""Which code the hot store's seeds and views were last built from.

Seeds, views and the dimensions made from seeds alone change only with the code, not with the
data, so the scheduled build leaves them out while the hot store holds them as this checkout
would build them. That is recorded here, in `staging.lnhm_deployed_code`: a fingerprint of what
decides how dbt builds them (the project's files, the environment variables they name, the
target, the versions of dbt and its adapters). It is written after a build of every node
succeeds, and cleared before such a build, after a scheduled build in which a node could not
run, and before an analyst's `make dbt` that can change a relation. No record, or another
fingerprint, and the next scheduled build builds every node.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

import duckdb

from lnhm.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
# what dbt reads to build the project (analyses are compiled, never built; profiles.yml says
# where to connect, not what to build, and names the password's variable); files that may not
# exist count as absent
PROJECT_FILES = ("dbt_project.yml", "selectors.yml", "packages.yml", "dependencies.yml")
PROJECT_FOLDERS = ("models", "seeds", "macros", "snapshots", "data_tests", "dbt_packages")
# the kinds of file dbt reads there (not editors' swap files, caches or sqlfluff's stubs)
DBT_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md"}
# dbt's materializations live in dbt-adapters and the adapters, not only in dbt-core
PACKAGES = (
    "dbt-core",
    "dbt-adapters",
    "dbt-common",
    "dbt-duckdb",
    "dbt-postgres",
    "duckdb",
)
ENV_VAR = re.compile(r"""env_var\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]""")
TABLE = "staging.lnhm_deployed_code"


def fingerprint(environ: Mapping[str, str], target: str, root: Path = ROOT) -> str:
    """A hash of the project's files, the values of the variables they read, the target and
    the versions of dbt and its adapters: equal fingerprints build equal seeds and views."""
    files = [root / name for name in PROJECT_FILES if (root / name).is_file()]
    for folder in PROJECT_FOLDERS:
        files += sorted(
            p for p in (root / folder).rglob("*") if p.is_file() and p.suffix in DBT_SUFFIXES
        )
    digest = hashlib.sha256(f"target={target}\n".encode())
    names: set[str] = set()
    for path in files:
        content = path.read_bytes()
        digest.update(f"{path.relative_to(root)}\n".encode() + content)
        names.update(ENV_VAR.findall(content.decode(errors="replace")))
    for name in sorted(names):
        digest.update(f"\n{name}={environ.get(name)}".encode())
    for package in PACKAGES:
        digest.update(f"\n{package}=={_version(package)}".encode())
    return digest.hexdigest()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def recorded(settings: Settings) -> str | None:
    """The fingerprint the hot store was last fully built with, or None."""
    query = f"select fingerprint from {TABLE}"
    if settings.warehouse == "duckdb":
        with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
            try:
                row = con.execute(query).fetchone()
            except duckdb.CatalogException:  # never fully built (or built before this record)
                return None
        return row[0] if row else None
    import psycopg2

    conn = psycopg2.connect(settings.postgres_dsn(), application_name="lnhm-transform")
    try:
        with conn.cursor() as cur:
            cur.execute("select to_regclass(%s) is not null", [TABLE])
            if not cur.fetchone()[0]:
                return None
            cur.execute(query)
            row = cur.fetchone()
    finally:
        conn.close()
    return row[0] if row else None


def record(settings: Settings, value: str | None) -> None:
    """Record `value` as the code the hot store is built with (None: clear the record)."""
    statements = [f"delete from {TABLE}"]
    if value is not None:
        statements.append(f"insert into {TABLE} values ('{value}', current_timestamp)")
    create = f"create table if not exists {TABLE} (fingerprint varchar, built_at timestamp)"
    if settings.warehouse == "duckdb":
        if value is None and not settings.duckdb_path.exists():
            return  # nothing to clear, and connecting would make an empty hot store file
        with duckdb.connect(str(settings.duckdb_path)) as con:
            if value is None and not _duckdb_has_schema(con):
                return
            con.execute("begin")
            for sql in (create, *statements):
                con.execute(sql)
            con.execute("commit")
        return
    import psycopg2

    conn = psycopg2.connect(settings.postgres_dsn(), application_name="lnhm-transform")
    try:
        with conn, conn.cursor() as cur:
            cur.execute("select to_regnamespace('staging') is not null")
            if not cur.fetchone()[0]:
                if value is None:
                    return
                raise RuntimeError("schema staging is missing after a full dbt build")
            for sql in (create, *statements):
                cur.execute(sql)
    finally:
        conn.close()


def _duckdb_has_schema(con) -> bool:
    found = con.execute(
        "select count(*) from information_schema.schemata where schema_name = 'staging'"
    ).fetchone()
    return bool(found[0])
