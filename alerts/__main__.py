"""``python -m alerts [botanists|digest|ops] [--dry-run]``: botanist alerts (default), the
daily digest, or the operator checks. One JSON log line per run; exit 0 ok, 1 failed,
2 bad configuration, 75 skipped because another run held the lock."""

from __future__ import annotations

import argparse
import sys

from lnhm import joblog
from lnhm import settings as lnhm_settings

COMMANDS = {
    "botanists": ("alerts", "announce new incidents and recoveries to botanists"),
    "digest": ("alerts-digest", "send each botanist's daily digest (once per UTC day)"),
    "ops": ("alerts-ops", "check the warehouse's health and alert the operator"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m alerts", description=__doc__)
    parser.add_argument(
        "command",
        nargs="?",
        default="botanists",
        choices=sorted(COMMANDS),
        help="; ".join(f"{k}: {v[1]}" for k, v in COMMANDS.items()),
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="list the messages that would go out (on stderr); send and record nothing",
    )
    args = parser.parse_args(argv)
    job_name = COMMANDS[args.command][0]

    def run(counts: dict) -> None:
        settings = lnhm_settings.load()
        cfg = settings.alerts
        if args.command == "ops":
            from alerts.ops import run_ops

            run_ops(settings, cfg, counts, dry_run=args.dry_run)
        elif args.command == "digest":
            from alerts.botanists import run_digest

            run_digest(settings, cfg, counts, dry_run=args.dry_run)
        else:
            from alerts.botanists import run_alerts

            run_alerts(settings, cfg, counts, dry_run=args.dry_run)

    return joblog.run_job(job_name, run)


if __name__ == "__main__":
    sys.exit(main())
