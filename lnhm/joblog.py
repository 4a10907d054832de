"""One structured JSON line per job run, and the exit codes every job shares.

Exit codes: 0 done, 1 failed, 2 invalid configuration, 75 skipped because another writer held
the lock (EX_TEMPFAIL: cron can simply try again next time). The Makefile turns 75 into 0 for
the scheduler (a skip is not a failure); see README.md.

A failure's ``error`` is the whole exception chain on one line (``A: ... <- caused by B: ...``),
with secrets redacted, so that a lock conflict and a bad password read differently.
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
MAX_ERROR_CHARS = 4000  # the whole chain, however long dlt's or dbt's messages are


def _one_line(text) -> str:
    """``text`` redacted, then on one line (redacted first: a secret may hold whitespace)."""
    return " ".join(redact(str(text)).split())


def describe(exc: BaseException) -> str:
    """The exception and its causes on one line, outermost first, secrets redacted.

    Follows ``__cause__`` (``raise ... from``) and ``__context__`` (an error while handling
    another) unless suppressed (``from None``); a cause whose text the outer message already
    repeats is named by its type only.
    """
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        message = _one_line(current)
        name = type(current).__name__
        if parts and message and message in " ".join(parts):
            parts.append(name)
        else:
            parts.append(f"{name}: {message}" if message else name)
        if current.__cause__ is not None:
            current = current.__cause__
        elif not current.__suppress_context__:
            current = current.__context__
        else:
            current = None
    text = redact(" <- caused by ".join(parts))
    if len(text) > MAX_ERROR_CHARS:
        text = text[: MAX_ERROR_CHARS - 20] + " ... (truncated)"
    return text


def exit_code(exc: BaseException | None) -> int:
    """The documented exit code for a job that raised ``exc`` (None: it succeeded)."""
    if exc is None:
        return EXIT_OK
    if isinstance(exc, ConfigError):
        return EXIT_CONFIG
    if isinstance(exc, LockTimeout):
        return EXIT_SKIPPED
    return EXIT_FAILED


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
        record.update(outcome="skipped", error=_one_line(exc), exit_code=EXIT_SKIPPED)
        raise
    except BaseException as exc:
        record.update(outcome="failed", error=describe(exc), exit_code=exit_code(exc))
        raise
    else:
        record.update(outcome="ok", exit_code=EXIT_OK)
    finally:
        record["counts"] = counts
        record["duration_s"] = round(time.monotonic() - started, 3)
        emit(record)


def run_job(name: str, main: Callable[[dict], None]) -> int:
    """Run ``main(counts)`` as job ``name``; return the process exit code.

    Errors are reported as one line on stderr (no traceback), the same text as the JSON line's
    ``error``, so that cron mail and container logs say what went wrong at a glance.
    """
    try:
        with job(name) as counts:
            main(counts)
    except ConfigError as exc:
        print(f"{name}: invalid configuration: {_one_line(exc)}", file=sys.stderr)
        return EXIT_CONFIG
    except LockTimeout as exc:
        print(f"{name}: skipped: {_one_line(exc)}", file=sys.stderr)
        return EXIT_SKIPPED
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return EXIT_FAILED
    except JobFailed as exc:
        # an expected failure: its own message first, then what caused it
        print(
            f"{name}: failed: {describe(exc).removeprefix(type(exc).__name__ + ': ')}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - the last line of defence, reported in one line
        print(f"{name}: failed: {describe(exc)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


class JobFailed(RuntimeError):
    """An expected failure whose message is already a clear one-line reason."""
