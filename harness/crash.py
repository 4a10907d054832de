"""``python -m harness.crash --at STEP [archive options]``: the archive job, killed with SIGKILL
the moment a day reaches STEP (test harness; the product has step observers, no crash hooks).

Steps (``archive.job.STEPS``): ``staged`` (the day's Parquet file is written but not verified;
it is cut in half first, as a writer killed mid-write leaves it), ``verified`` (every file of the
day read back and checked, nothing published), ``moved`` (files moved to their published place,
the manifest not yet switched), ``published`` (the manifest switched, the hot store not
pruned), ``pruned`` (the hot store pruned, staging not cleared).
The process dies by a real ``kill -9`` of itself: no ``finally``, no atexit, no flush.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from archive import job


def kill_at(step: str):
    """A step observer that SIGKILLs this process when ``step`` is reached."""

    def hook(reached: str, path: str | None) -> None:
        if reached != step:
            return
        if path and os.path.isfile(path):
            with open(path, "r+b") as handle:
                handle.truncate(max(1, os.path.getsize(path) // 2))
        print(f"harness.crash: kill -9 at {step}", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    return hook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.crash", description=__doc__)
    parser.add_argument("--at", required=True, choices=job.STEPS, help="step to be killed at")
    args, rest = parser.parse_known_args(argv)
    job.STEP_HOOKS.append(kill_at(args.at))
    from archive.__main__ import main as archive_main

    return archive_main(rest)


if __name__ == "__main__":
    sys.exit(main())
