"""DuckDB connections for the jobs that read across tiers (archive, reports).

Extensions come from PyPI packages (``duckdb-extension-*``) and are loaded by file path:
``INSTALL`` would download them, and nothing may download at run time.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from urllib.parse import urlparse

import duckdb

from lnhm.locking import LockTimeout
from lnhm.settings import Settings

EXTENSION_PACKAGES = {
    "httpfs": "duckdb_extension_httpfs",
    "postgres_scanner": "duckdb_extension_postgres_scanner",
}


def extension_path(name: str) -> Path:
    """File of extension ``name`` shipped by its PyPI package for this DuckDB version."""
    package = __import__(EXTENSION_PACKAGES[name])
    path = Path(package.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    path = path / f"{name}.duckdb_extension"
    if not path.exists():
        raise RuntimeError(
            f"DuckDB extension {name} for DuckDB {duckdb.__version__} is not installed "
            f"(expected {path}); reinstall the project: make install"
        )
    return path


def load_extension(con: duckdb.DuckDBPyConnection, name: str) -> None:
    con.execute(f"load '{extension_path(name)}'")


def s3_secret_sql(env: dict | None = None) -> str:
    """A ``CREATE SECRET`` for S3 from the AWS SDK's standard variables."""
    env = os.environ if env is None else env
    options = {
        "type": "s3",
        "key_id": env.get("AWS_ACCESS_KEY_ID", ""),
        "secret": env.get("AWS_SECRET_ACCESS_KEY", ""),
        "session_token": env.get("AWS_SESSION_TOKEN", ""),
        "region": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
    }
    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    if endpoint:
        parsed = urlparse(endpoint)
        # S3-compatible servers (MinIO, moto) are addressed by path, often without TLS.
        options.update(endpoint=parsed.netloc, url_style="path", use_ssl=parsed.scheme == "https")
    body = ", ".join(
        f"{key} {_sql_literal(value)}" for key, value in options.items() if value != ""
    )
    return f"create or replace secret lnhm_s3 ({body})"


def _sql_literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "'" + str(value).replace("'", "''") + "'"


def _attach_duckdb_file(con, path: Path, read_only: bool, wait_s: float) -> None:
    mode = " (read_only)" if read_only else ""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            con.execute(f"attach {_sql_literal(str(path))} as hot{mode}")
            return
        except duckdb.IOException as exc:
            # DuckDB lets one process hold a file while it writes; wait for it to finish.
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                if "lock" in str(exc).lower():
                    raise LockTimeout(
                        f"{path} is held by another job; waited {wait_s:g} s (LNHM_LOCK_TIMEOUT)"
                    ) from None
                raise
            time.sleep(0.5)


def connect(
    settings: Settings, hot: str | None = "ro", archive: bool = True
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the hot store attached as catalog ``hot``.

    ``hot``: "ro" (read only), "rw" (read-write) or None (do not attach).
    ``archive``: load httpfs and an S3 secret when the archive is on S3.
    """
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    con.execute("set timezone = 'UTC'")
    if archive and settings.archive_is_s3:
        load_extension(con, "httpfs")
        con.execute(s3_secret_sql())
        # Bound every request (a hung S3 must not hold a lock for minutes): whole seconds.
        con.execute(f"set http_timeout = {max(1, math.ceil(settings.s3_timeout_s))}")
        con.execute(f"set http_retries = {int(settings.s3_retries)}")
    if hot is None:
        return con
    read_only = hot == "ro"
    if settings.warehouse == "duckdb":
        if read_only and not settings.duckdb_path.exists():
            raise FileNotFoundError(
                f"LNHM_DUCKDB_PATH: {settings.duckdb_path} does not exist yet; "
                "run make ingest first"
            )
        _attach_duckdb_file(con, settings.duckdb_path, read_only, settings.lock_timeout_s)
    else:
        load_extension(con, "postgres_scanner")
        if settings.pg["password"] and os.environ.get("PGPASSWORD") != settings.pg["password"]:
            os.environ["PGPASSWORD"] = settings.pg["password"]  # libpq reads it from there
        mode = ", read_only" if read_only else ""
        con.execute(
            f"attach {_sql_literal(settings.postgres_libpq())} as hot (type postgres{mode})"
        )
    return con
