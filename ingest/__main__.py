"""`python -m ingest poll`: poll every plant in LNHM_PLANT_IDS once and load into raw.

(The simulated backfill, `make backfill`, belongs to the harness: `python -m harness.backfill`.)
"""

from __future__ import annotations

import argparse
import sys


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ingest", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("poll", help="poll every id in LNHM_PLANT_IDS once and load into raw")
    return p


def main(argv: list[str] | None = None) -> int:
    parser().parse_args(argv)
    from lnhm import settings as lnhm_settings
    from lnhm.joblog import run_job

    def job(counts: dict) -> None:
        from ingest.poll import run_poll

        run_poll(lnhm_settings.load(), counts)

    return run_job("ingest", job)


if __name__ == "__main__":
    sys.exit(main())
