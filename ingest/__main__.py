"""`python -m ingest poll` | `python -m ingest backfill --hours 48 [--end ISO] [--plants N]`."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime


def _iso(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date-time: {text!r}") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
        return value

    return parse


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ingest", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("poll", help="poll every id in LNHM_PLANT_IDS once and load into raw")
    b = sub.add_parser("backfill", help="load hours of simulated minutely polls in one run")
    b.add_argument("--hours", type=_positive(float), default=48.0, help="hours of history (48)")
    b.add_argument(
        "--end", type=_iso, default=None, help="last poll time, ISO (default: previous minute)"
    )
    b.add_argument(
        "--plants",
        type=_positive(int),
        default=None,
        help="simulate ids 1..N (default: LNHM_PLANT_IDS)",
    )
    b.add_argument("--seed", type=int, default=42, help="simulator seed (42)")
    b.add_argument("--shape", choices=("v1", "v2", "v3"), default="v1", help="payload shape")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from lnhm import settings as lnhm_settings
    from lnhm.joblog import run_job

    if args.command == "poll":

        def job(counts: dict) -> None:
            from ingest.poll import run_poll

            run_poll(lnhm_settings.load(), counts)

        return run_job("ingest", job)

    def job(counts: dict) -> None:
        from ingest.backfill import run_backfill

        run_backfill(
            lnhm_settings.load(),
            counts,
            hours=args.hours,
            end=args.end,
            plants=args.plants,
            seed=args.seed,
            shape=args.shape,
        )

    return run_job("backfill", job)


if __name__ == "__main__":
    sys.exit(main())
