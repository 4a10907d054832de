"""One writer at a time on the hot store (architecture invariant 4).

DuckDB allows a single writing process per file, so every job that writes takes this lock
first: a file lock beside the DuckDB file, or a session advisory lock on PostgreSQL (which also
works across ECS tasks that share no file system). A second writer waits up to
``LNHM_LOCK_TIMEOUT`` seconds, then gives up with ``LockTimeout``.

DuckDB's own file lock is also taken by processes that are not jobs, such as an analyst's
``duckdb -readonly hot.duckdb`` shell. With the job lock held, the DuckDB file is therefore
opened once for writing as a probe, retried within the same ``LNHM_LOCK_TIMEOUT``, so such a
session makes a job wait and then skip (exit 75) instead of failing halfway.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import filelock

from lnhm.settings import Settings


class LockTimeout(RuntimeError):
    """Another writer held the lock for longer than the configured wait."""


def _holder_text(owner_file: Path) -> str:
    try:
        owner = json.loads(owner_file.read_text())
        where = f"pid {owner['pid']} on {owner['host']}"
        return f" (held by {owner['job']}, {where}, since {owner['since']})"
    except (OSError, ValueError, KeyError):
        return ""


@contextlib.contextmanager
def _file_lock(path: Path, timeout_s: float, job: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(path) + ".lock")
    owner_file = Path(str(path) + ".lock.owner")
    try:
        lock.acquire(timeout=timeout_s)
    except filelock.Timeout:
        raise LockTimeout(
            f"another job is writing {path}{_holder_text(owner_file)}; waited {timeout_s:g} s "
            "(LNHM_LOCK_TIMEOUT), try again later"
        ) from None
    try:
        owner_file.write_text(
            json.dumps(
                {
                    "job": job,
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "since": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            )
        )
        yield
    finally:
        with contextlib.suppress(OSError):
            owner_file.unlink()
        lock.release()


@contextlib.contextmanager
def _advisory_lock(settings: Settings, name: str, timeout_s: float, job: str):
    import psycopg2

    key = int.from_bytes(hashlib.sha256(f"lnhm:{name}".encode()).digest()[:8], "big", signed=True)
    # PostgreSQL keeps 63 bytes of application_name and says NOTICE on stderr when it cuts one
    conn = psycopg2.connect(settings.postgres_dsn(), application_name=f"lnhm-{job}"[:63])
    conn.autocommit = True
    try:
        deadline = time.monotonic() + timeout_s
        with conn.cursor() as cur:
            while True:
                cur.execute("select pg_try_advisory_lock(%s)", (key,))
                if cur.fetchone()[0]:
                    break
                if time.monotonic() >= deadline:
                    raise LockTimeout(
                        f"another job holds the PostgreSQL lock {name!r}; waited {timeout_s:g} s "
                        "(LNHM_LOCK_TIMEOUT), try again later"
                    )
                time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        yield
    finally:
        conn.close()  # closing the session releases the advisory lock


def _wait_for_duckdb_file(path: Path, deadline: float, timeout_s: float) -> None:
    """Return once no other process holds DuckDB's lock on `path`, or raise LockTimeout."""
    import duckdb

    if not path.exists():
        return
    while True:
        try:
            duckdb.connect(str(path)).close()
            return
        except duckdb.IOException as exc:
            message = " ".join(str(exc).split())
            if "lock" not in message.lower():
                raise
            if time.monotonic() >= deadline:
                raise LockTimeout(
                    f"{path} is open in another process (a DuckDB shell or tool: close it, or "
                    f"open it with -readonly only between jobs); waited {timeout_s:g} s "
                    f"(LNHM_LOCK_TIMEOUT), try again later; DuckDB said: {message[:300]}"
                ) from None
        time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))


@contextlib.contextmanager
def writer_lock(settings: Settings, name: str = "hot-store", job: str = "job"):
    """Hold the hot store's writer lock for the duration of the block."""
    if settings.warehouse == "duckdb":
        path = settings.duckdb_path if name == "hot-store" else settings.duckdb_path.with_name(name)
        deadline = time.monotonic() + settings.lock_timeout_s
        with _file_lock(path, settings.lock_timeout_s, job):
            if name == "hot-store":
                _wait_for_duckdb_file(path, deadline, settings.lock_timeout_s)
            yield
    else:
        with _advisory_lock(settings, name, settings.lock_timeout_s, job):
            yield
