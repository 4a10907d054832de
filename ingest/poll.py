"""One live poll: fetch every configured plant id once, then load readings and failures."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime

from ingest import fetch


def _import_pipeline() -> None:
    import ingest.pipeline  # noqa: F401  (and with it ingest.rows, pyarrow)


def _warm_up() -> threading.Thread:
    """Import dlt and pyarrow (about 1.5 s of CPU) while the poll waits on the network."""
    thread = threading.Thread(target=_import_pipeline, name="import-dlt", daemon=True)
    thread.start()
    return thread


def run_poll(settings, counts: dict) -> None:
    """Poll `settings.plant_ids` against `settings.api_url` and load the result into `raw`.

    Per-plant failures are rows, not errors. Raises `fetch.ApiUnreachable` (after loading the
    failure rows) when every request failed to connect.
    """
    started_at = datetime.now(UTC)
    warm_up = _warm_up()
    clock = time.monotonic()
    outcomes = fetch.poll(settings.plant_ids, fetch.FetchOptions.from_settings(settings))
    finished_at = datetime.now(UTC)
    counts["poll_s"] = round(time.monotonic() - clock, 3)

    warm_up.join()
    from ingest.pipeline import load
    from ingest.rows import Batch, new_run_id

    run_id = new_run_id(started_at)
    counts["run_id"] = run_id
    batch = Batch()
    for outcome in outcomes:
        batch.add(outcome, run_id)
    unreachable = fetch.unreachable(outcomes)
    batch.add_run(
        run_id,
        started_at,
        finished_at,
        plants_polled=len(outcomes),
        readings=batch.reading_count,
        failures=batch.failure_count,
        outcome="failed" if unreachable else "ok",
    )
    counts.update(
        plants_polled=len(outcomes),
        readings=batch.reading_count,
        failures=batch.failure_count,
        failures_by_kind=dict(Counter(o.kind for o in outcomes if not o.is_reading)),
    )
    timings: dict = {}
    load(settings, [batch], job="ingest", timings=timings)
    counts.update(timings)
    if unreachable:
        first = outcomes[0].message
        raise fetch.ApiUnreachable(
            f"LNHM_API_URL {settings.api_url}: API unreachable, all {len(outcomes)} requests "
            f"failed to connect ({first})"
        )
