"""``python -m reports``: write the static report site to LNHM_REPORTS_DIR."""

from __future__ import annotations

import sys

from lnhm import joblog, settings


def main(counts: dict) -> None:
    from reports.build import build

    counts.update(build(settings.load()))


if __name__ == "__main__":
    sys.exit(joblog.run_job("reports", main))
