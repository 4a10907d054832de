"""The dlt pipeline `lnhm` (dataset `raw`) on DuckDB or PostgreSQL, and the one load path.

Every run has its own dlt working folder (`runs/<stamp>-<pid>-<hex>/` under the state root),
so overlapping runs (a backfill while the minutely ingest runs, or several ingests at once)
never touch each other's load packages. Extract and normalize happen there before the writer
lock is taken; the load into the hot store runs under `lnhm.locking.writer_lock`. While a run is
alive it holds an exclusive `flock` on `runs/<name>.claim`; a folder whose claim is free belongs
to a run that was refused the lock (exit 75) or was killed, and the next run to hold the writer
lock loads it before its own package, then deletes it: a skipped or killed poll loses nothing.
A leftover package that cannot be loaded because its files are broken (truncated, missing) is
moved to `quarantine/` with one line on stderr instead of failing every later run.

The state root must outlive the process: `DLT_DATA_DIR` (dlt's own variable) puts it on a
persistent volume (EFS on ECS, where the container's disk goes with the task); by default it is
`.dlt/` beside the DuckDB file.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
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
# a job says one line on stderr: dlt's warnings ("package not fully loaded", NOT NULL columns
# added) repeat what the failure line says; its errors still show
os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")

import dlt  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from dlt.common.pipeline import LoadInfo  # noqa: E402
from dlt.common.storages.exceptions import LoadPackageNotFound  # noqa: E402
from dlt.destinations.impl.postgres.configuration import PostgresCredentials  # noqa: E402
from dlt.load.exceptions import LoadClientJobFailed  # noqa: E402
from dlt.normalize.exceptions import NormalizeJobFailed  # noqa: E402
from dlt.pipeline.exceptions import PipelineStepFailed  # noqa: E402

from ingest.rows import Batch  # noqa: E402
from ingest.source import plants_api  # noqa: E402
from lnhm.hotstore import create_duckdb_file  # noqa: E402
from lnhm.joblog import JobFailed  # noqa: E402
from lnhm.locking import LockTimeout, writer_lock  # noqa: E402

PIPELINE_NAME = "lnhm"
DATASET = "raw"
# arrow tables go to DuckDB as parquet; to PostgreSQL as csv loaded with COPY
FILE_FORMATS = {"duckdb": "parquet", "postgres": "csv"}


class DltStepFailed(JobFailed):
    """A dlt step failed; the message is the step, the package and the cause on one line."""


_DLT_BOILERPLATE = re.compile(
    r"\s*(Pending packages are left|WARNING: Package|To retry the load).*", re.S
)
_TRACEBACK_LAST = re.compile(r"^([\w.]+(?:Error|Exception|Failed)\b.*)$", re.M)


def _cause_text(exc: BaseException) -> str:
    """`Type: message` of dlt's inner exception without dlt's advice or an embedded traceback
    (a failed job's message carries one: only its last exception line is kept)."""
    text = str(exc)
    head, _, traceback = text.partition("Traceback (most recent call last)")
    head = _DLT_BOILERPLATE.sub("", head)
    last = _TRACEBACK_LAST.findall(traceback)
    if last:
        head = f"{head.rstrip(': ')}: {last[-1]}"
    return f"{type(exc).__name__}: {' '.join(head.split())}"


def dlt_failure(exc: PipelineStepFailed) -> str:
    """dlt's failure as one line: the step, the package, the inner error and its root cause."""
    inner = exc.exception
    text = _cause_text(inner)
    root = inner
    while root.__cause__ is not None or (
        root.__context__ is not None and not root.__suppress_context__
    ):
        root = root.__cause__ or root.__context__
    if root is not inner:
        root_text = " ".join(str(root).split())
        if root_text[:80] not in text:
            text += f" <- caused by {type(root).__name__}: {root_text}"
    package = f" (package {exc.load_id})" if exc.load_id else ""
    return f"dlt {exc.step} step failed{package}: {text}"[:1500]


@contextlib.contextmanager
def dlt_step():
    """Turn dlt's PipelineStepFailed (a page of text) into one line that keeps the cause."""
    try:
        yield
    except PipelineStepFailed as exc:
        raise DltStepFailed(dlt_failure(exc)) from None


def state_root(settings) -> Path:
    """dlt's working area (one folder per run, quarantine), one per destination: under
    `DLT_DATA_DIR/pipelines` when set, else `.dlt/` beside the DuckDB file (never ~/.dlt)."""
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


def make_pipeline(settings, pipelines_dir: Path) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        pipelines_dir=str(pipelines_dir),
        destination=destination(settings),
        dataset_name=DATASET,
        progress=None,
    )


def _claim(path: Path) -> int | None:
    """An exclusive flock on `path` (released by the kernel when the process dies), or None
    when a live run holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _release(claim: Path, fd: int) -> None:
    with contextlib.suppress(OSError):
        claim.unlink()
    os.close(fd)


@contextlib.contextmanager
def run_folder(root: Path):
    """This run's own dlt working folder, claimed for the life of the block. The claim is taken
    before the folder exists, so another run never sees an unclaimed folder of a live run."""
    runs = root / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    name = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{os.getpid()}-{secrets.token_hex(3)}"
    claim = runs / f"{name}.claim"
    fd = _claim(claim)
    assert fd is not None, claim  # a fresh name
    folder = runs / name
    folder.mkdir()
    try:
        yield folder
    finally:
        if not folder.exists():  # loaded and removed: the claim file goes too
            _release(claim, fd)
        else:  # refused the lock or failed: the folder waits, its claim free for the next run
            os.close(fd)


class BrokenPackage(RuntimeError):
    """A waiting load package whose files cannot be read."""


# Failures that say the package itself is broken (a truncated or missing file, a schema that is
# not JSON): retrying cannot help, so such a package is quarantined. Anything else (the
# database is down, a lock, a bad password) is raised, and the package waits for the next run.
BROKEN = (
    FileNotFoundError,
    IsADirectoryError,
    NotADirectoryError,
    json.JSONDecodeError,
    UnicodeDecodeError,
    pa.ArrowInvalid,
    NormalizeJobFailed,
    LoadClientJobFailed,
    LoadPackageNotFound,
    BrokenPackage,
)


def _is_broken(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, BROKEN):
            return True
        if isinstance(current, PipelineStepFailed):
            current = current.exception
        else:
            current = current.__cause__ or current.__context__
    return False


def broken_file(folder: Path) -> str | None:
    """The first file of a waiting package that cannot be read (a parquet file without its
    footer, a csv cut mid-line, JSON that does not parse), as "path: reason", or None.

    Checked before a leftover is loaded: dlt would otherwise retry such a file as a transient
    database error on every later run.
    """
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or "loaded" in path.relative_to(folder).parts:
            continue  # completed packages are history
        try:
            if path.suffix == ".parquet":
                pq.read_metadata(path)
            elif path.suffix == ".json":
                json.loads(path.read_bytes())
            elif path.suffix == ".csv" and path.stat().st_size:
                with path.open("rb") as handle:
                    handle.seek(-1, os.SEEK_END)
                    if handle.read(1) != b"\n":
                        raise ValueError("cut mid-line (no final newline)")
        except Exception as exc:  # noqa: BLE001 - any reason the file cannot be read
            return f"{path}: {' '.join(str(exc).split())[:200]}"
    return None


def _leftovers(root: Path, own: Path) -> list[tuple[Path, Path, Path | None, int | None]]:
    """Folders of runs that ended without loading (refused the lock, failed, killed), oldest
    first, each claimed: (pipelines_dir, folder to remove, claim file, claim fd). A folder
    whose claim a live run holds is that run's own business and is left alone."""
    found: list[tuple[Path, Path, Path | None, int | None]] = []
    if (root / PIPELINE_NAME).is_dir():  # the shared folder of versions before per-run folders
        found.append((root, root / PIPELINE_NAME, None, None))
    runs = root / "runs"
    for folder in sorted(runs.iterdir()) if runs.is_dir() else []:
        if not folder.is_dir() or folder == own:
            continue
        claim = runs / f"{folder.name}.claim"
        fd = _claim(claim)
        if fd is not None:
            found.append((folder, folder, claim, fd))
    return found


def _quarantine(root: Path, folder: Path, exc: BaseException) -> Path:
    from lnhm.joblog import describe

    target = root / "quarantine" / f"{folder.parent.name}-{folder.name}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(folder), str(target))
    print(
        f"ingest: quarantined a broken load package (not loaded, kept for inspection) "
        f"in {target}: {describe(exc)[:500]}",
        file=sys.stderr,
        flush=True,
    )
    return target


def _load_leftovers(settings, root: Path, own: Path, counts: dict) -> None:
    """Under the writer lock: load every unclaimed leftover folder, then remove it."""
    loaded = quarantined = 0
    for pipelines_dir, folder, claim, fd in _leftovers(root, own):
        try:
            try:
                broken = broken_file(folder)
                if broken:
                    raise BrokenPackage(broken)
                pipeline = make_pipeline(settings, pipelines_dir)
                pipeline.normalize()  # a run killed after extract left an extracted package
                pipeline.load()
            except Exception as exc:
                if not _is_broken(exc):
                    if isinstance(exc, PipelineStepFailed):
                        raise DltStepFailed(
                            f"a waiting run's package in {folder}: {dlt_failure(exc)}"
                        ) from None
                    raise
                _quarantine(root, folder, exc)
                quarantined += 1
                continue
            shutil.rmtree(folder)
            loaded += 1
        finally:
            if fd is not None:
                _release(claim, fd)
    if loaded:
        counts["leftover_runs_loaded"] = loaded
    if quarantined:
        counts["packages_quarantined"] = quarantined


# The raw tables' fetch-time indexes (PostgreSQL). Every scheduled dbt build reads the rows
# fetched since its last run, and so do its new-rows tests; without an index PostgreSQL scans
# the whole hot window for them (fct_readings' new rows at 1,000 plants x 48 h: 9.4 s, 1.6 s
# with it). dlt declares no such index, and only the tables' owner may create one: this job's
# role (deploy/postgres/roles.sql). The catalog is read first, so that nothing is locked once
# they exist. DuckDB needs none (its scans skip row groups by their min/max).
FETCH_TIME_INDEXED = ("plant_readings", "plant_fetch_failures")


def index_fetch_times(pipeline: dlt.Pipeline) -> None:
    with pipeline.sql_client() as client:
        found = client.execute_sql(
            "select indexname from pg_indexes where schemaname = %s", client.dataset_name
        )
        existing = {row[0] for row in found or ()}
        for table in FETCH_TIME_INDEXED:
            name = f"{table}__fetched_at"
            if name not in existing:
                client.execute_sql(
                    f"create index if not exists {name} "
                    f"on {client.make_qualified_table_name(table)} (fetched_at)"
                )


def load(
    settings, batches: Iterable[Batch], job: str = "ingest", timings: dict | None = None
) -> LoadInfo:
    """Extract `batches` into this run's own load package, then under the lock load the
    leftovers of earlier runs and this package.

    `timings`, when given, receives the seconds spent in extract (which consumes `batches`),
    normalize, waiting for the lock, and load (and how many leftover runs were loaded).
    """
    timings = {} if timings is None else timings
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        timings[name] = round(now - clock, 3)
        clock = now

    root = state_root(settings)
    with run_folder(root) as folder:
        pipeline = make_pipeline(settings, folder)
        # deduplicated: a live poll is one Batch (unique keys), and a backfill's batches cover
        # distinct minutes, so no key repeats within a package and the merge can skip its sort
        source = plants_api(batches, deduplicated=True)
        with dlt_step():
            pipeline.extract(source, loader_file_format=FILE_FORMATS[settings.warehouse])
        lap("extract_s")
        with dlt_step():
            pipeline.normalize()
        lap("normalize_s")
        try:
            with writer_lock(settings, job=job):
                lap("lock_wait_s")
                if settings.warehouse == "duckdb":
                    create_duckdb_file(Path(settings.duckdb_path))  # before dlt makes it
                _load_leftovers(settings, root, folder, timings)
                pipeline.activate()  # the leftovers' pipelines were made active in turn
                try:
                    info = pipeline.load()
                except PipelineStepFailed as exc:
                    raise DltStepFailed(
                        f"{dlt_failure(exc)}; this run's rows wait in {folder} for the next run"
                    ) from None
                shutil.rmtree(folder)  # still under the lock: a folder is loaded or waiting
                if settings.warehouse == "postgres":
                    index_fetch_times(pipeline)
                lap("load_s")
        except LockTimeout as exc:
            raise LockTimeout(
                f"{exc}; this run's rows wait in {folder} and the next run loads them"
            ) from None
    return info
