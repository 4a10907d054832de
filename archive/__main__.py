"""``python -m archive``: move whole UTC days older than the retention to Parquet (daily job)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from lnhm import settings as lnhm_settings
from lnhm.joblog import run_job


def _utc(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m archive",
        description="Archive readings and failed requests of whole UTC days older than "
        "LNHM_RETENTION_HOURS to Parquet under LNHM_ARCHIVE_URL, verify, then prune the hot store.",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="show which days would be archived; change nothing"
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="also read every listed Parquet file back (rows and key checksums as the manifest "
        "holds them) before archiving; the default checks only that each exists with its size",
    )
    parser.add_argument(
        "--now",
        type=_utc,
        default=None,
        metavar="ISO8601",
        help="pretend it is this UTC time (replays and tests); default: now",
    )
    args = parser.parse_args(argv)

    def job(counts: dict) -> None:
        from archive.job import run

        run(lnhm_settings.load(), counts, now=args.now, dry_run=args.dry_run, verify=args.verify)

    return run_job("archive", job)


if __name__ == "__main__":
    sys.exit(main())
