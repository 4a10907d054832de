"""Configuration: every job reads the environment here, once.

Names follow the field's conventions: libpq's ``PG*`` variables for PostgreSQL, the AWS SDK's
variables for S3, and ``LNHM_*`` for the rest. An invalid value raises ``ConfigError`` whose
message is one line that starts with the variable's name.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

REAL_API_URL = "https://data-eng-plants-api.herokuapp.com"
WAREHOUSES = ("duckdb", "postgres")
SMTP_TLS_MODES = ("starttls", "ssl", "none")
# default requests in flight: every plant at once (one round trip per poll), up to this bound
MAX_DEFAULT_CONCURRENCY = 1000


class ConfigError(ValueError):
    """A configuration value is missing or invalid; the message names the variable."""


def parse_id_ranges(text: str, variable: str = "LNHM_PLANT_IDS") -> tuple[int, ...]:
    """Parse ``"1-50,60,70-80"`` into sorted unique ids."""
    ids: set[int] = set()
    for part in text.replace(" ", "").split(","):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise ConfigError(f"{variable}: expected ids or ranges like '1-50,60', got {text!r}")
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if last < first:
            raise ConfigError(f"{variable}: range {part!r} ends before it starts")
        ids.update(range(first, last + 1))
    if len(ids) > 1_000_000:
        raise ConfigError(f"{variable}: {len(ids)} ids is more than one run can poll")
    return tuple(sorted(ids))


def _text(env: dict, name: str, default: str) -> str:
    value = env.get(name, "").strip()
    return value or default


def env_number(
    env: dict,
    name: str,
    default: float,
    kind=float,
    minimum: float = 0,
    maximum: float | None = None,
) -> float:
    """Variable ``name`` as a number of ``kind`` within bounds, or ``default`` when unset."""
    raw = env.get(name, "").strip()
    if not raw:
        return kind(default)
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a number, got {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = (
            f"at least {minimum:g}" if maximum is None else f"between {minimum:g} and {maximum:g}"
        )
        raise ConfigError(f"{name}: must be {bounds}, got {raw!r}")
    return value


def _choice(env: dict, name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _text(env, name, default).lower()
    if value not in choices:
        raise ConfigError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")
    return value


def _url(env: dict, name: str, default: str) -> str:
    value = _text(env, name, default).rstrip("/")
    if not re.match(r"^https?://[^/\s]+", value):
        raise ConfigError(f"{name}: expected an http(s) URL, got {value!r}")
    return value


def _archive_url(env: dict) -> str:
    value = _text(env, "LNHM_ARCHIVE_URL", "data/archive").rstrip("/")
    if "://" in value and not value.startswith("s3://"):
        raise ConfigError(
            f"LNHM_ARCHIVE_URL: expected a local folder or s3://bucket/prefix, got {value!r}"
        )
    if value.startswith("s3://") and not re.match(
        r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]", value
    ):
        raise ConfigError(f"LNHM_ARCHIVE_URL: {value!r} does not name a valid S3 bucket")
    return value


@dataclass(frozen=True)
class Settings:
    api_url: str
    plant_ids: tuple[int, ...]
    warehouse: str
    duckdb_path: Path
    archive_url: str
    reports_dir: Path
    retention_hours: float
    lock_timeout_s: float
    http_timeout_s: float
    http_concurrency: int
    http_retries: int
    poll_deadline_s: float
    problem_report_email: str
    operator_email: str
    smtp_host: str
    smtp_port: int
    smtp_tls: str
    smtp_user: str
    smtp_password: str = field(repr=False)
    mail_from: str = ""
    outbox_dir: Path = Path("data/outbox")
    store_capacity_bytes: int = 10 * 1024**3
    pg: dict = field(default_factory=dict, repr=False)

    @property
    def dbt_target(self) -> str:
        return self.warehouse

    @property
    def archive_is_s3(self) -> bool:
        return self.archive_url.startswith("s3://")

    def postgres_dsn(self) -> str:
        """A ``postgresql://`` URL built from libpq's variables (for dlt and psycopg2)."""
        pg = self.pg
        user = quote(pg["user"], safe="")
        password = f":{quote(pg['password'], safe='')}" if pg["password"] else ""
        return f"postgresql://{user}{password}@{pg['host']}:{pg['port']}/{pg['dbname']}"

    def postgres_libpq(self) -> str:
        """A libpq key=value string without the password (for DuckDB's postgres extension).

        libpq reads the password from ``PGPASSWORD`` itself; keeping it out of the string keeps
        it out of the connection errors that DuckDB repeats word for word.
        """
        parts = [f"{key}={value}" for key, value in self.pg.items() if value and key != "password"]
        return " ".join(parts)


SECRET_VARIABLES = (
    "PGPASSWORD",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "LNHM_SMTP_PASSWORD",
)


def redact(text: str, env: dict | None = None) -> str:
    """``text`` with the value of every secret variable replaced by ``***``."""
    env = os.environ if env is None else env
    for name in SECRET_VARIABLES:
        value = env.get(name, "")
        if len(value) >= 4:
            text = text.replace(value, "***")
    return text


def from_env(env: dict | None = None) -> Settings:
    """Build settings from ``env`` (default: ``os.environ``); raise ConfigError if invalid."""
    env = dict(os.environ if env is None else env)
    user = env.get("PGUSER") or env.get("USER") or "postgres"
    pg = {
        "host": _text(env, "PGHOST", "localhost"),
        "port": str(int(env_number(env, "PGPORT", 5432, int, 1))),
        "user": user,
        "password": env.get("PGPASSWORD", ""),
        "dbname": _text(env, "PGDATABASE", user),
    }
    plant_ids = parse_id_ranges(_text(env, "LNHM_PLANT_IDS", "1-50"))
    return Settings(
        api_url=_url(env, "LNHM_API_URL", REAL_API_URL),
        plant_ids=plant_ids,
        warehouse=_choice(env, "LNHM_WAREHOUSE", "duckdb", WAREHOUSES),
        duckdb_path=Path(_text(env, "LNHM_DUCKDB_PATH", "data/lnhm.duckdb")),
        archive_url=_archive_url(env),
        reports_dir=Path(_text(env, "LNHM_REPORTS_DIR", "build/reports")),
        retention_hours=env_number(env, "LNHM_RETENTION_HOURS", 24, float, 1),
        lock_timeout_s=env_number(env, "LNHM_LOCK_TIMEOUT", 30),
        http_timeout_s=env_number(env, "LNHM_HTTP_TIMEOUT", 5, float, 0.1),
        http_concurrency=env_number(
            env,
            "LNHM_HTTP_CONCURRENCY",
            max(1, min(len(plant_ids), MAX_DEFAULT_CONCURRENCY)),
            int,
            1,
        ),
        http_retries=env_number(env, "LNHM_HTTP_RETRIES", 3, int, 0),
        poll_deadline_s=env_number(env, "LNHM_POLL_DEADLINE", 45, float, 1),
        problem_report_email=_text(env, "LNHM_PROBLEM_EMAIL", "data-team@lnhm.example"),
        operator_email=_text(env, "LNHM_OPERATOR_EMAIL", "data-team@lnhm.example"),
        smtp_host=env.get("LNHM_SMTP_HOST", "").strip(),
        smtp_port=env_number(env, "LNHM_SMTP_PORT", 587, int, 1),
        smtp_tls=_choice(env, "LNHM_SMTP_TLS", "starttls", SMTP_TLS_MODES),
        smtp_user=env.get("LNHM_SMTP_USER", ""),
        smtp_password=env.get("LNHM_SMTP_PASSWORD", ""),
        mail_from=_text(env, "LNHM_MAIL_FROM", "plants@lnhm.example"),
        outbox_dir=Path(_text(env, "LNHM_OUTBOX_DIR", "data/outbox")),
        store_capacity_bytes=env_number(env, "LNHM_STORE_CAPACITY_BYTES", 10 * 1024**3, int, 1),
        pg=pg,
    )


@functools.cache
def load() -> Settings:
    """Settings from the process environment, read once."""
    return from_env()
