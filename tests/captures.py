"""Real captures of the plants API (tests/fixtures/plants-api/) loaded as polls, for tests.

`python -m tests.captures NAME...` loads the named polls through ingest's own answer
classification and load path (one job, JSON job line like every job). The captures are years
apart, so loaded in order they are the real data's long gaps:

- `2023-08-31`: one poll of 46 plants;
- `2024-08-06-polls`: 20 consecutive polls (11:18-11:24 UTC) of ids 0-52; the capture keeps
  only the reading columns, so the rest of each body comes from the poll of the same day;
- `2024-08-06`: one poll of ids 0-50 at 12:55 UTC, errors included;
- `2025-02-04`: one poll of ids 1-50 at 15:58 UTC, errors included.

A poll's answers are fetched when they were recorded (an error answer: at the poll's first
recording), so the warehouse clock is the capture's own.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "plants-api"
STATUS = {"plant not found": 404, "plant on loan to another museum": 404}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _poll(bodies: list[dict]) -> list[tuple[int, int, dict, datetime]]:
    """(plant_id, status, body, fetched_at) of one poll's answers."""
    first = min(_at(b["recording_taken"]) for b in bodies if b.get("recording_taken"))
    answers = []
    for body in bodies:
        if "error" in body:
            status = STATUS.get(body["error"], 500)
            answers.append((int(body["plant_id"]), status, body, first))
        else:
            answers.append((int(body["plant_id"]), 200, body, _at(body["recording_taken"])))
    return answers


def polls(name: str) -> list[list[tuple[int, int, dict, datetime]]]:
    """The polls of one capture, oldest first."""
    if name == "2023-08-31":
        data = json.loads((FIXTURES / "v1-2023-08-31-all-plants.json").read_text())
        return [_poll(list(data.values()))]
    if name == "2024-08-06":
        return [
            _poll(json.loads((FIXTURES / "v1-2024-08-06-ids-0-50-with-errors.json").read_text()))
        ]
    if name == "2025-02-04":
        return [
            _poll(json.loads((FIXTURES / "v1-2025-02-04-ids-1-50-with-errors.json").read_text()))
        ]
    if name == "2024-08-06-polls":
        same_day = json.loads((FIXTURES / "v1-2024-08-06-ids-0-50-with-errors.json").read_text())
        static = {b["plant_id"]: b for b in same_day if "error" not in b}
        rows = list(
            csv.DictReader((FIXTURES / "v1-2024-08-06-20-polls-ids-0-52.readings.csv").open())
        )
        result: list[list[dict]] = [[]]
        previous = -1
        for row in rows:
            plant_id = int(row["plant_id"])
            if plant_id <= previous:  # the ids are asked in order: a smaller one starts a poll
                result.append([])
            previous = plant_id
            if row["error"]:
                body = {"error": row["error"], "plant_id": plant_id}
            else:
                body = {
                    **static.get(plant_id, {}),
                    "plant_id": plant_id,
                    "recording_taken": row["recording_taken"],
                    "last_watered": row["last_watered"],
                    "soil_moisture": float(row["soil_moisture"]),
                    "temperature": float(row["temperature"]),
                }
            result[-1].append(body)
        return [_poll(bodies) for bodies in result]
    raise SystemExit(f"tests.captures: unknown capture {name!r}")


def _load(argv: list[str]) -> int:
    from ingest.answers import classify
    from ingest.pipeline import load
    from ingest.rows import Batch, new_run_id
    from lnhm import settings as lnhm_settings
    from lnhm.joblog import run_job

    def job(counts: dict) -> None:
        settings = lnhm_settings.load()
        batch = Batch()
        counts.update(polls=0, readings=0, failures=0)
        for name in argv:
            for answers in polls(name):
                started = min(a[3] for a in answers)
                run_id = new_run_id(started, f"c{counts['polls']:05d}")
                readings = failures = 0
                for plant_id, status, body, fetched_at in answers:
                    outcome = classify(plant_id, status, json.dumps(body), fetched_at, 1)
                    if batch.add(outcome, run_id):
                        readings += 1
                    else:
                        failures += 1
                finished = max(a[3] for a in answers)
                batch.add_run(run_id, started, finished, len(answers), readings, failures)
                counts["polls"] += 1
                counts["readings"] += readings
                counts["failures"] += failures
        load(settings, [batch], job="captures")

    return run_job("captures", job)


if __name__ == "__main__":
    sys.exit(_load(sys.argv[1:]))
