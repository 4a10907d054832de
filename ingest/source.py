"""The dlt source `plants_api`: three resources fed by batches of rows (see ingest.rows).

Each resource yields pyarrow tables (dlt writes them to parquet/csv without running its row
normalizer). The three resources share one pass over the batches: whichever resource dlt asks
first advances the batch iterator and keeps the other tables queued for their resources.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

import dlt
import pyarrow as pa

from ingest.rows import FAILURE_SCHEMA, READING_SCHEMA, RUN_SCHEMA, Batch

MERGE = {"disposition": "merge", "strategy": "delete-insert"}

TABLES = {
    "plant_readings": (READING_SCHEMA, ("plant_id", "recording_taken")),
    "plant_fetch_failures": (FAILURE_SCHEMA, ("run_id", "plant_id")),
    "ingest_runs": (RUN_SCHEMA, ("run_id",)),
}


def _dlt_type(arrow_type: pa.DataType) -> dict:
    if pa.types.is_int64(arrow_type):
        return {"data_type": "bigint"}
    if pa.types.is_floating(arrow_type):
        return {"data_type": "double"}
    if pa.types.is_timestamp(arrow_type):
        return {"data_type": "timestamp", "timezone": True, "precision": 6}
    return {"data_type": "text"}


def column_hints(schema: pa.Schema) -> dict[str, dict]:
    """dlt column hints with explicit types and nullability, from an arrow schema."""
    return {
        field.name: {"name": field.name, "nullable": field.nullable, **_dlt_type(field.type)}
        for field in schema
    }


class _Splitter:
    """Splits an iterable of Batch objects into one stream of arrow tables per table name."""

    def __init__(self, batches: Iterable[Batch]) -> None:
        self._batches = iter(batches)
        self._queues: dict[str, deque[pa.Table]] = {name: deque() for name in TABLES}
        self._seen: dict[str, bool] = dict.fromkeys(TABLES, False)
        self._done = False

    def _advance(self) -> bool:
        batch = next(self._batches, None)
        if batch is None:
            self._done = True
            return False
        for name, table in zip(TABLES, batch.tables(), strict=True):
            if table.num_rows:
                self._queues[name].append(table)
        return True

    def tables(self, name: str) -> Iterator[pa.Table]:
        queue = self._queues[name]
        while True:
            while queue:
                self._seen[name] = True
                yield queue.popleft()
            if (self._done or not self._advance()) and not queue:
                break
        if not self._seen[name]:  # an empty table still creates the destination table
            yield TABLES[name][0].empty_table()


@dlt.source(name="plants_api", max_table_nesting=0)
def plants_api(batches: Iterable[Batch], deduplicated: bool = False):
    """Readings, fetch failures and run records from the plants API (or its simulator)."""
    splitter = _Splitter(batches)
    for name, (schema, key) in TABLES.items():
        resource = dlt.resource(
            splitter.tables(name),
            name=name,
            write_disposition=MERGE,
            primary_key=list(key),
            columns=column_hints(schema),
        )
        if deduplicated:
            # rows are unique per key within a load package already (ingest.rows.Batch): spare
            # the destination the ROW_NUMBER() sort over the staging table
            resource.apply_hints(additional_table_hints={"x-stage-data-deduplicated": True})
        yield resource
