"""`python -m harness.backfill --hours 48 [--end ISO] [--plants N]`: hours of simulated minutely
polls, loaded in ONE dlt run (test and demo harness; the product never imports it).

The simulator's model answers in-process (no HTTP): for each minute from `end - hours` to `end`
every plant id is asked at that minute plus a small per-plant offset of seconds (as the real API's
recording times spread over a poll). The answers go through the same row building
(`ingest.rows`) and the same load path (`ingest.pipeline.load`) as a live poll; each simulated
poll has its own run id (derived from its time, so a rerun merges instead of duplicating).
A simulated poll asks each id once: no retries, so sensor faults are kept at the model's rate.

Polls are simulated in chunks of about CHUNK_ROWS responses; each chunk becomes one arrow table
per raw table, and dlt writes them all into one load package.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta

from harness.simulator.model import PlantsSimulator, SimulatorConfig, parse_temperature_offset
from ingest.answers import classify, failure
from ingest.pipeline import load
from ingest.rows import Batch, new_run_id

MAX_OFFSET_S = 5  # recording times of one real poll spread over a few seconds
CHUNK_ROWS = 25_000  # responses per chunk (one arrow table per raw table)
_SECONDS = [timedelta(seconds=s) for s in range(MAX_OFFSET_S)]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def poll_times(hours: float, end: datetime) -> list[datetime]:
    """Minutely poll times in (end - hours, end], oldest first: exactly hours*60 of them."""
    end = _utc(end).replace(second=0, microsecond=0)
    polls = round(hours * 60)
    return [end - timedelta(minutes=polls - 1 - k) for k in range(polls)]


def offset_s(plant_id: int, minute: int) -> int:
    """Deterministic 0..MAX_OFFSET_S-1 seconds after the poll minute (epoch // 60) for a plant."""
    mixed = (plant_id * 0x9E3779B1 + minute * 0x85EBCA77) & 0xFFFFFFFF
    mixed = ((mixed ^ (mixed >> 15)) * 0x2C1B3C6D) & 0xFFFFFFFF
    return (mixed >> 16) % MAX_OFFSET_S


def backfill_run_id(poll_at: datetime) -> str:
    suffix = "b" + hashlib.sha1(f"backfill:{poll_at.isoformat()}".encode()).hexdigest()[:5]
    return new_run_id(poll_at, suffix)


def simulate_polls(simulator, plant_ids: Sequence[int], times: Sequence[datetime]) -> Batch:
    """One Batch with the readings, failures and run rows of the polls at `times`."""
    batch = Batch()
    polled = len(plant_ids)
    for poll_at in times:
        run_id = backfill_run_id(poll_at)
        readings = failures = 0
        last_offset = 0
        minute = int(poll_at.timestamp()) // 60
        for plant_id in plant_ids:
            offset = offset_s(plant_id, minute)
            last_offset = max(last_offset, offset)
            at = poll_at + _SECONDS[offset]
            response = simulator.respond(plant_id, at)
            if response.hang:
                outcome = failure(plant_id, "timeout", "no answer (simulated timeout)", at, 1)
            else:
                outcome = classify(plant_id, response.status, response.body, at, 1)
            if batch.add(outcome, run_id):
                readings += 1
            else:
                failures += 1
        finished_at = poll_at + timedelta(seconds=last_offset + 1)
        batch.add_run(run_id, poll_at, finished_at, polled, readings, failures)
    return batch


class _Chunk:
    """A simulated chunk's arrow tables, shaped like a Batch for the dlt source."""

    def __init__(self, batch: Batch, polls: int) -> None:
        self._tables = batch.tables()
        self.polls, self.readings, self.failures = polls, batch.reading_count, batch.failure_count

    def tables(self):
        return self._tables


def simulated_chunks(
    simulator,
    plant_ids: Sequence[int],
    times: Sequence[datetime],
    counts: dict,
    progress: Callable[[str], None] | None = None,
) -> Iterator[_Chunk]:
    """Chunks of simulated polls in time order, with a progress line about every 10 %."""
    total = len(times)
    per_chunk = max(1, min(CHUNK_ROWS // max(1, len(plant_ids)), math.ceil(total / 20)))
    started = time.monotonic()
    next_report = 0.1
    for first in range(0, total, per_chunk):
        span = times[first : first + per_chunk]
        chunk = _Chunk(simulate_polls(simulator, plant_ids, span), len(span))
        counts["polls"] += chunk.polls
        counts["readings"] += chunk.readings
        counts["failures"] += chunk.failures
        done = counts["polls"] / total
        if progress and (done >= next_report or counts["polls"] == total):
            next_report = math.floor(done * 10 + 1) / 10
            progress(
                f"backfill: {counts['polls']}/{total} polls ({done:.0%}), {counts['readings']} "
                f"readings, {counts['failures']} failures, {time.monotonic() - started:.1f} s"
            )
        yield chunk


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_backfill(
    settings,
    counts: dict,
    hours: float,
    end: datetime | None = None,
    plants: int | None = None,
    seed: int = 42,
    shape: str = "v1",
    progress: Callable[[str], None] | None = _stderr,
    temperature_offsets: tuple = (),
) -> None:
    """Simulate `hours` of minutely polls ending at `end` and load them in one dlt run.

    `end` defaults to the previous whole minute, so a live poll right after adds this minute.
    """

    plant_ids = tuple(range(1, plants + 1)) if plants else settings.plant_ids
    size = plants or max(50, max(plant_ids))
    config = SimulatorConfig(
        plants=size, seed=seed, shape=shape, temperature_offsets=tuple(temperature_offsets)
    )
    simulator = PlantsSimulator(config)
    if end is None:  # up to the minute before this one, which belongs to the live polls
        end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    times = poll_times(hours, end)
    counts.update(plants=len(plant_ids), polls=0, readings=0, failures=0)
    if times:
        counts["first_poll_at"] = times[0].isoformat()
        counts["last_poll_at"] = times[-1].isoformat()
    clock = time.monotonic()
    chunks = simulated_chunks(simulator, plant_ids, times, counts, progress)
    timings: dict = {}
    load(settings, chunks, job="backfill", timings=timings)
    elapsed = time.monotonic() - clock
    counts.update(timings)
    counts["seconds"] = round(elapsed, 3)
    counts["readings_per_s"] = round(counts["readings"] / elapsed) if elapsed else None


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


def _temperature_offset(text: str):
    try:
        return parse_temperature_offset(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m harness.backfill",
        description="Load hours of simulated minutely polls in one run (ingest's load path).",
    )
    p.add_argument("--hours", type=_positive(float), default=48.0, help="hours of history (48)")
    p.add_argument(
        "--end", type=_iso, default=None, help="last poll time, ISO (default: previous minute)"
    )
    p.add_argument(
        "--plants",
        type=_positive(int),
        default=None,
        help="simulate ids 1..N (default: LNHM_PLANT_IDS)",
    )
    p.add_argument("--seed", type=int, default=42, help="simulator seed (42)")
    p.add_argument("--shape", choices=("v1", "v2", "v3"), default="v1", help="payload shape")
    p.add_argument(
        "--temperature-offset",
        action="append",
        default=[],
        type=_temperature_offset,
        metavar="ID=START/HOURS/DELTA",
        help="the simulator's heating fault scenario, e.g. 5=2026-12-02T08:00:00/2/+5",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from lnhm import settings as lnhm_settings
    from lnhm.joblog import run_job

    def job(counts: dict) -> None:
        run_backfill(
            lnhm_settings.load(),
            counts,
            hours=args.hours,
            end=args.end,
            plants=args.plants,
            seed=args.seed,
            shape=args.shape,
            temperature_offsets=tuple(args.temperature_offset),
        )

    return run_job("backfill", job)


if __name__ == "__main__":
    sys.exit(main())
