"""One structured JSON line per job run, and the exit codes every job shares.

Exit codes: 0 done, 1 failed, 2 invalid configuration, 75 skipped because another writer held
the lock (EX_TEMPFAIL: cron can simply try again next time).
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from lnhm.locking import LockTimeout
from lnhm.settings import ConfigError, redact

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_SKIPPED = 0, 1, 2, 75


def emit(record: dict) -> None:
    print(json.dumps(record, default=str, sort_keys=False), flush=True)


@contextlib.contextmanager
def job(name: str):
    """Yield a dict of counts; print one JSON line with outcome and duration at the end."""
    counts: dict = {}
    started = time.monotonic()
    record = {"job": name, "started_at": datetime.now(UTC).isoformat(timespec="seconds")}
    try:
        yield counts
    except LockTimeout as exc:
        record.update(outcome="skipped", error=str(exc))
        raise
    except BaseException as exc:
        error = (f"{type(exc).__name__}: {exc}".splitlines() or [""])[0]
        record.update(outcome="failed", error=redact(error))
        raise
    else:
        record["outcome"] = "ok"
    finally:
        record["counts"] = counts
        record["duration_s"] = round(time.monotonic() - started, 3)
        emit(record)


def run_job(name: str, main: Callable[[dict], None]) -> int:
    """Run ``main(counts)`` as job ``name``; return the process exit code.

    Errors are reported as one line on stderr (no traceback for expected failures), so that
    cron mail and container logs say what went wrong at a glance.
    """
    try:
        with job(name) as counts:
            main(counts)
    except ConfigError as exc:
        print(f"{name}: invalid configuration: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except LockTimeout as exc:
        print(f"{name}: skipped: {exc}", file=sys.stderr)
        return EXIT_SKIPPED
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return EXIT_FAILED
    except JobFailed as exc:
        print(redact(f"{name}: failed: {exc}"), file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - the last line of defence, reported in one line
        first_line = (str(exc).strip().splitlines() or [""])[0]
        print(redact(f"{name}: failed: {type(exc).__name__}: {first_line}"), file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


class JobFailed(RuntimeError):
    """An expected failure whose message is already a clear one-line reason."""
