"""The dlt pipeline `lnhm` (dataset `raw`) on DuckDB or PostgreSQL, and the one load path.

Extract and normalize happen before the writer lock is taken (they touch only local files);
the load into the hot store runs under `lnhm.locking.writer_lock`. If the lock cannot be had,
the normalized package stays in the pipeline folder and the next run loads it first, so a
poll's readings are not lost when a run is skipped. That folder must therefore outlive the
process: `DLT_DATA_DIR` (dlt's own variable) puts it on a persistent volume (EFS on ECS, where
the container's disk goes with the task); by default it is `.dlt/` beside the DuckDB file.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable
from pathlib import Path

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# csv for PostgreSQL's COPY: gzip would cost more time than it saves on a local disk
os.environ.setdefault("NORMALIZE__DATA_WRITER__DISABLE_COMPRESSION", "true")
# dlt's load id on arrow data too (which load brought a row). No _dlt_id: the tables merge on
# their own keys and have no nested tables, and a random row id costs ~20 bytes a reading
os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")
# merge goes through raw_staging; empty it after each load instead of keeping a copy
os.environ.setdefault("LOAD__TRUNCATE_STAGING_DATASET", "true")

import dlt  # noqa: E402
from dlt.common.pipeline import LoadInfo  # noqa: E402
from dlt.destinations.impl.postgres.configuration import PostgresCredentials  # noqa: E402

from ingest.rows import Batch  # noqa: E402
from ingest.source import plants_api  # noqa: E402
from lnhm.locking import LockTimeout, writer_lock  # noqa: E402

PIPELINE_NAME = "lnhm"
DATASET = "raw"
# arrow tables go to DuckDB as parquet; to PostgreSQL as csv loaded with COPY
FILE_FORMATS = {"duckdb": "parquet", "postgres": "csv"}


def pipelines_dir(settings) -> Path:
    """dlt's working folder (state, load packages waiting for the lock), one per destination:
    under `DLT_DATA_DIR/pipelines` when set, else `.dlt/` beside the DuckDB file (never ~/.dlt)."""
    if settings.dlt_data_dir is not None:
        base = Path(settings.dlt_data_dir).resolve() / "pipelines"
    else:
        base = Path(settings.duckdb_path).resolve().parent / ".dlt"
    if settings.warehouse == "duckdb":
        target = str(Path(settings.duckdb_path).resolve())
    else:
        pg = settings.pg
        target = f"{pg['host']}:{pg['port']}/{pg['dbname']}"
    digest = hashlib.sha1(target.encode()).hexdigest()[:10]
    return base / f"{settings.warehouse}-{digest}"


def destination(settings):
    if settings.warehouse == "duckdb":
        path = Path(settings.duckdb_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return dlt.destinations.duckdb(credentials=str(path))
    credentials = PostgresCredentials()
    credentials.parse_native_representation(settings.postgres_dsn())
    if credentials.password is None:  # trust / peer / .pgpass: dlt insists on a value
        credentials.password = ""
    credentials.resolve()
    return dlt.destinations.postgres(credentials=credentials)


def make_pipeline(settings) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        pipelines_dir=str(pipelines_dir(settings)),
        destination=destination(settings),
        dataset_name=DATASET,
        progress=None,
    )


def load(
    settings, batches: Iterable[Batch], job: str = "ingest", timings: dict | None = None
) -> LoadInfo:
    """Extract `batches` into one load package, then load it (and any leftovers) under the lock.

    `timings`, when given, receives the seconds spent in extract (which consumes `batches`),
    normalize, waiting for the lock, and load.
    """
    timings = {} if timings is None else timings
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        timings[name] = round(now - clock, 3)
        clock = now

    pipeline = make_pipeline(settings)
    # deduplicated: a live poll is one Batch (unique keys), and a backfill's batches cover
    # distinct minutes, so no key repeats within a package and the merge can skip its sort
    source = plants_api(batches, deduplicated=True)
    pipeline.extract(source, loader_file_format=FILE_FORMATS[settings.warehouse])
    lap("extract_s")
    pipeline.normalize()
    lap("normalize_s")
    try:
        with writer_lock(settings, job=job):
            lap("lock_wait_s")
            info = pipeline.load()
            lap("load_s")
    except LockTimeout as exc:
        raise LockTimeout(
            f"{exc}; this run's rows wait in {pipeline.pipelines_dir} and the next run loads them"
        ) from None
    return info
