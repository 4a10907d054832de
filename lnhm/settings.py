"""Configuration: every job reads the environment here, once.

Names follow the field's conventions: libpq's ``PG*`` variables for PostgreSQL, the AWS SDK's
variables for S3, dlt's ``DLT_DATA_DIR`` for its working folder, and ``LNHM_*`` for the rest
(the alert rules' thresholds included: ``Settings.alerts``). An invalid value raises
``ConfigError`` whose message is one line that starts with the variable's name; values that
would silently write somewhere unexpected (``s3://`` without a bucket, a URL where a folder is
expected, a folder where a file is expected) are invalid too.
"""

from __future__ import annotations

import email.utils
import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


# The long-lived marts (plant_daily_summary, plant_baselines, data_quality, fct_incidents)
# recompute from the hot store every day that may still grow, from date(newest fetch -
# retention) on; the archive must not prune a day before they have seen it whole, so the
# retention is at least one day. One setting for both: dbt reads LNHM_RETENTION_HOURS through
# env_var in dbt_project.yml, the archive job through Settings.retention_hours.
MIN_RETENTION_HOURS = 24


def _retention_hours(env: dict) -> float:
    hours = env_number(env, "LNHM_RETENTION_HOURS", 24, float)
    if hours < MIN_RETENTION_HOURS:
        raise ConfigError(
            f"LNHM_RETENTION_HOURS: must be at least {MIN_RETENTION_HOURS} (the long-lived marts "
            f"need whole days in the hot store), got {env['LNHM_RETENTION_HOURS'].strip()!r}"
        )
    return hours


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


# "s3:", "file:", "gs://", "md:", "postgresql://": text that names a scheme, not a folder
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")


def _archive_url(env: dict) -> str:
    value = _text(env, "LNHM_ARCHIVE_URL", "data/archive")
    if value.startswith("s3://"):
        bucket, _, prefix = value[len("s3://") :].partition("/")
        if not _BUCKET.fullmatch(bucket) or ".." in bucket:
            shown = bucket or "nothing"
            raise ConfigError(
                f"LNHM_ARCHIVE_URL: {value!r} names no valid S3 bucket (got {shown}); "
                "expected s3://bucket/prefix"
            )
        parts = prefix.rstrip("/").split("/") if prefix.rstrip("/") else []
        if any(part in ("", ".", "..") for part in parts):
            raise ConfigError(
                f"LNHM_ARCHIVE_URL: {value!r} has an empty, '.' or '..' part in its prefix"
            )
        return "s3://" + "/".join([bucket, *parts])
    if _SCHEME.match(value):
        raise ConfigError(
            f"LNHM_ARCHIVE_URL: expected a local folder or s3://bucket/prefix, got {value!r}"
        )
    _folder(value, "LNHM_ARCHIVE_URL")
    return value.rstrip("/") or "/"


def _folder(value: str, name: str) -> Path:
    """A local folder: not a URL, and not an existing file."""
    if _SCHEME.match(value):
        raise ConfigError(f"{name}: expected a local folder, got the URL {value!r}")
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{name}: {value!r} is a file, expected a folder")
    return path


def _duckdb_file(env: dict) -> Path:
    value = _text(env, "LNHM_DUCKDB_PATH", "data/lnhm.duckdb")
    if value == ":memory:" or _SCHEME.match(value):
        raise ConfigError(
            f"LNHM_DUCKDB_PATH: expected the path of a DuckDB file, got {value!r} "
            "(an in-memory or remote database would lose every load)"
        )
    path = Path(value).expanduser()
    if value.endswith("/") or path.is_dir():
        raise ConfigError(f"LNHM_DUCKDB_PATH: {value!r} is a folder, expected a DuckDB file")
    return path


def _email(env: dict, name: str, default: str) -> str:
    """One address, optionally with a display name (``Plants <plants@example.org>``)."""
    value = _text(env, name, default)
    _, address = email.utils.parseaddr(value)
    if "," in value or not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>.]+", address):
        raise ConfigError(
            f"{name}: expected one e-mail address like name@example.org, got {value!r}"
        )
    return value


def _smtp_host(env: dict) -> str:
    value = env.get("LNHM_SMTP_HOST", "").strip()
    if value and not re.fullmatch(r"[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\]", value):
        raise ConfigError(
            f"LNHM_SMTP_HOST: expected a host name (port in LNHM_SMTP_PORT), got {value!r}"
        )
    return value


def _s3_endpoint(env: dict) -> str:
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"):
        value = env.get(name, "").strip()
        if value:
            if not re.match(r"^https?://[^/\s]+", value):
                raise ConfigError(
                    f"{name}: expected http(s)://host[:port] of an S3-compatible server, "
                    f"got {value!r}"
                )
            return value
    return ""


def _reports_url(env: dict) -> str:
    """The site's base URL with one trailing slash, or "" when unset (no links)."""
    if not env.get("LNHM_REPORTS_URL", "").strip():
        return ""
    return _url(env, "LNHM_REPORTS_URL", "") + "/"


def _timezone(env: dict) -> ZoneInfo:
    """The museum's time zone (an IANA name): the site prints wall-clock times in it."""
    value = _text(env, "LNHM_TIMEZONE", "Europe/London")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder such as "Europe"
        raise ConfigError(
            f"LNHM_TIMEZONE: expected an IANA time zone like Europe/London, got {value!r}"
        ) from None


def _dlt_data_dir(env: dict) -> Path | None:
    value = env.get("DLT_DATA_DIR", "").strip()
    return _folder(value, "DLT_DATA_DIR") if value else None


@dataclass(frozen=True)
class AlertConfig:
    """The alert rules' own knobs (``LNHM_ALERT_*``, ``LNHM_OPS_*``)."""

    watering_hours: float = 26.0
    # read by dbt (var alert_after_minutes); validated here so a bad value is a config error
    after_minutes: float = 30.0
    ingest_failed_runs: int = 3
    stale_minutes: float = 15.0
    archive_hours: float = 26.0
    capacity_warn_pct: float = 80.0
    size_history_days: int = 30


def _alert_config(env: dict) -> AlertConfig:
    return AlertConfig(
        watering_hours=env_number(env, "LNHM_ALERT_WATERING_HOURS", 26, float, 1),
        after_minutes=env_number(env, "LNHM_ALERT_AFTER_MINUTES", 30, float, 0),
        ingest_failed_runs=env_number(env, "LNHM_OPS_INGEST_FAILED_RUNS", 3, int, 1),
        stale_minutes=env_number(env, "LNHM_OPS_STALE_MINUTES", 15, float, 1),
        archive_hours=env_number(env, "LNHM_OPS_ARCHIVE_HOURS", 26, float, 1),
        capacity_warn_pct=env_number(env, "LNHM_OPS_CAPACITY_WARN_PCT", 80, float, 1, 100),
    )


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
    s3_endpoint: str = ""
    # Every S3 call (boto3 and DuckDB's httpfs) gives up after this many seconds without an
    # answer, and is retried this many times: a hung S3 must not hold the writer lock for long.
    s3_timeout_s: float = 10.0
    s3_retries: int = 2
    dlt_data_dir: Path | None = None
    # the published site's base URL (ending in /), for links in the e-mails; "" = no links
    reports_url: str = ""
    # the museum's zone: every time the site prints is wall-clock time here (UTC stays in data)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    alerts: AlertConfig = field(default_factory=AlertConfig)

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
    archive_url = _archive_url(env)
    return Settings(
        api_url=_url(env, "LNHM_API_URL", REAL_API_URL),
        plant_ids=plant_ids,
        warehouse=_choice(env, "LNHM_WAREHOUSE", "duckdb", WAREHOUSES),
        duckdb_path=_duckdb_file(env),
        archive_url=archive_url,
        reports_dir=_folder(_text(env, "LNHM_REPORTS_DIR", "build/reports"), "LNHM_REPORTS_DIR"),
        retention_hours=_retention_hours(env),
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
        problem_report_email=_email(env, "LNHM_PROBLEM_EMAIL", "data-team@lnhm.example"),
        operator_email=_email(env, "LNHM_OPERATOR_EMAIL", "data-team@lnhm.example"),
        smtp_host=_smtp_host(env),
        smtp_port=env_number(env, "LNHM_SMTP_PORT", 587, int, 1),
        smtp_tls=_choice(env, "LNHM_SMTP_TLS", "starttls", SMTP_TLS_MODES),
        smtp_user=env.get("LNHM_SMTP_USER", ""),
        smtp_password=env.get("LNHM_SMTP_PASSWORD", ""),
        mail_from=_email(env, "LNHM_MAIL_FROM", "plants@lnhm.example"),
        outbox_dir=_folder(_text(env, "LNHM_OUTBOX_DIR", "data/outbox"), "LNHM_OUTBOX_DIR"),
        store_capacity_bytes=env_number(env, "LNHM_STORE_CAPACITY_BYTES", 10 * 1024**3, int, 1),
        pg=pg,
        s3_endpoint=_s3_endpoint(env) if archive_url.startswith("s3://") else "",
        s3_timeout_s=env_number(env, "LNHM_S3_TIMEOUT", 10, float, 1),
        s3_retries=env_number(env, "LNHM_S3_RETRIES", 2, int, 0, 10),
        dlt_data_dir=_dlt_data_dir(env),
        reports_url=_reports_url(env),
        timezone=_timezone(env),
        alerts=_alert_config(env),
    )


@functools.cache
def load() -> Settings:
    """Settings from the process environment, read once."""
    return from_env()
