"""The archive job: whole UTC days older than the retention go from the hot store to Parquet.

Per day, in this order (each step safe to be killed at, see README.md):
1. stage: DuckDB copies the day's raw readings (joined with their cleaned ``fct_readings`` row)
   and failed requests to ``_staging/<run>/<day>/`` as zstd Parquet;
2. verify: read the files back; row count and key checksum must equal the hot store's;
   a day archived before is merged with its published files (late readings) and verified again;
3. publish: move the files to ``readings/day=<day>/`` and ``fetch_failures/day=<day>/`` under new
   names, then switch the day's entry in ``manifest.json`` (readers read only listed files),
   then remove the day's previous files;
4. prune: delete exactly the archived keys from the raw tables and hot per-reading marts in one
   transaction, under the hot store's writer lock; the deleted counts must match.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import duckdb

from archive import audit, sql
from archive import manifest as mf
from archive.store import StoreError, open_store
from lnhm import duck
from lnhm.joblog import JobFailed
from lnhm.locking import writer_lock
from lnhm.settings import Settings
from lnhm.units import format_bytes

STEPS = ("staged", "verified", "moved", "published", "pruned")
# Observers of the job's steps, called as hook(step, path of the file just written or None).
# The product installs none; the kill -9 tests install one through harness/crash.py.
STEP_HOOKS: list[Callable[[str, str | None], None]] = []


def say(message: str) -> None:
    """Progress for people: stderr (stdout carries the job's JSON line)."""
    print(f"archive: {message}", file=sys.stderr, flush=True)


def reached(step: str, path: str | None = None) -> None:
    """Tell the installed observers that a day reached ``step`` (one of STEPS)."""
    for hook in STEP_HOOKS:
        hook(step, path)


@dataclass
class Day:
    day: date
    readings: int = 0
    failures: int = 0


class Archiver:
    """One run over one hot store and one archive (the caller holds the locks it needs)."""

    def __init__(
        self,
        settings: Settings,
        store,
        con: duckdb.DuckDBPyConnection,
        now: datetime,
        counts: dict,
        dry_run: bool = False,
        verify: bool = False,
    ):
        self.settings = settings
        self.store = store
        self.con = con
        self.now = now
        self.snapshot = now if now < datetime.now(UTC) else datetime.now(UTC)
        self.counts = counts
        self.dry_run = dry_run
        self.verify = verify
        self.unmatched = 0
        self.run_id = now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
        self.tmp = Path(tempfile.mkdtemp(prefix="lnhm-archive-"))
        con.execute(f"set temp_directory = {sql.literal(str(self.tmp / 'spill'))}")
        self.columns = self._discover()

    # ------------------------------------------------------------------ discovery and plan
    def _discover(self) -> dict[tuple[str, str], list[str]]:
        """Base tables of the hot store and their columns (views cannot be pruned)."""
        rows = self.con.execute(
            "select schema_name, table_name, column_name from duckdb_columns() "
            "where database_name = 'hot' "
            "and schema_name not in ('information_schema', 'pg_catalog') "
            "order by schema_name, table_name, column_index"
        ).fetchall()
        if self.settings.warehouse == "postgres":
            # The postgres catalog lists views as tables too: ask PostgreSQL which are tables.
            base_sql = (
                "select table_schema::text, table_name::text from information_schema.tables "
                "where table_type = 'BASE TABLE'"
            )
            base = set(
                self.con.execute(
                    f"select * from postgres_query('hot', {sql.literal(base_sql)})"
                ).fetchall()
            )
        else:
            base = set(
                self.con.execute(
                    "select schema_name, table_name from duckdb_tables() "
                    "where database_name = 'hot'"
                ).fetchall()
            )
        tables: dict[tuple[str, str], list[str]] = {}
        for schema, name, column in rows:
            if (schema, name) in base:
                tables.setdefault((schema, name), []).append(column)
        return tables

    def _per_reading_tables(self) -> list[tuple[str, str]]:
        """Hot tables holding one row per reading (fct_readings and any incremental twin)."""
        return [
            ref
            for ref, cols in sorted(self.columns.items())
            if ref[0] != "raw" and {"reading_id", "plant_id", "recorded_at"} <= set(cols)
        ]

    def plan(self) -> list[Day]:
        days: dict[date, Day] = {}
        if sql.READINGS in self.columns:
            for day, n in self.con.execute(
                f"select {sql.reading_day()} as day, count(*) from {sql.table(sql.READINGS)} "
                f"where {sql.fetched_by(self.snapshot)} group by all"
            ).fetchall():
                days.setdefault(day, Day(day)).readings = n
        if sql.FAILURES in self.columns:
            for day, n in self.con.execute(
                f"select {sql.failure_day()} as day, count(*) from {sql.table(sql.FAILURES)} "
                f"where {sql.fetched_by(self.snapshot)} group by all"
            ).fetchall():
                days.setdefault(day, Day(day)).failures = n
        cutoff = self.now - timedelta(hours=self.settings.retention_hours)
        ready, waiting = [], 0
        for d in sorted(k for k in days if k is not None):
            day_end = datetime.combine(d + timedelta(days=1), dtime(0), tzinfo=UTC)
            if day_end <= cutoff:
                ready.append(days[d])
            else:
                waiting += 1
        if None in days:
            say(f"{days[None].readings + days[None].failures} rows have no usable time; kept hot")
        self.counts["days_waiting"] = waiting
        return ready

    def coverage_gap(self, d: Day) -> str | None:
        """Why the day must not be pruned yet (long-lived marts do not cover it), or None."""
        if not d.readings:
            return None
        if sql.DAILY_SUMMARY not in self.columns:
            return "marts.plant_daily_summary does not exist: run `make transform` first"
        missing, total = self.con.execute(
            f"""
            with plants as (
                select distinct plant_id from {sql.table(sql.READINGS)}
                where {sql.reading_day()} = {sql.literal(d.day)}
                  and {sql.parse_time("recording_taken")} is not null
                  and {sql.fetched_by(self.snapshot)}
            ),
            covered as (
                select distinct plant_id from {sql.table(sql.DAILY_SUMMARY)}
                where cast(day as date) = {sql.literal(d.day)}
            )
            select count(*) filter (where c.plant_id is null), count(*)
            from plants p left join covered c on c.plant_id = p.plant_id
            """
        ).fetchone()
        if missing:
            return (
                f"marts.plant_daily_summary has no row for {missing} of {total} plants with "
                "readings that day: run `make transform` (dbt build) before archiving"
            )
        fct = set(self.columns.get(sql.FCT_READINGS, []))
        summary = set(self.columns[sql.DAILY_SUMMARY])
        if {"plant_id", "recorded_at"} <= fct and "readings" in summary:
            day = sql.literal(d.day)
            (stale,) = self.con.execute(
                f"""
                with hot as (
                    select plant_id, count(*) as n from {sql.table(sql.FCT_READINGS)}
                    where recorded_at >= {day} and recorded_at < {day} + 1 group by plant_id
                ),
                covered as (
                    select plant_id, sum(readings) as n from {sql.table(sql.DAILY_SUMMARY)}
                    where cast(day as date) = {day} group by plant_id
                )
                select count(*) from hot h left join covered c on c.plant_id = h.plant_id
                where coalesce(c.n, 0) < h.n
                """
            ).fetchone()
            if stale:
                return (
                    f"marts.plant_daily_summary counts fewer readings than fct_readings holds for "
                    f"{stale} plants that day (built before the last readings arrived): "
                    "run `make transform` (dbt build) before archiving"
                )
        return None

    # ------------------------------------------------------------------ SQL per day
    def _readings_select(self, d: date) -> str:
        raw_cols = [c for c in self.columns[sql.READINGS] if not c.startswith("_dlt")]
        fct = self.columns.get(sql.FCT_READINGS, [])
        cleaned = dict(sql.CLEANED_COLUMNS)
        cleaned.update(
            {
                c: "boolean"
                for c in fct
                if c.startswith(("is_", "has_")) and c not in cleaned and c not in raw_cols
            }
        )
        out = [f"r.{sql.ident(c)}" for c in raw_cols]
        for col, kind in cleaned.items():
            if col in raw_cols:
                continue
            out.append(
                f"f.{sql.ident(col)}" if col in fct else f"cast(null as {kind}) as {sql.ident(col)}"
            )
        day = sql.literal(d)
        hot = (
            f"select *, {sql.parse_time('recording_taken')} as _lnhm_at "
            f"from {sql.table(sql.READINGS)} "
            f"where {sql.reading_day()} = {day} and {sql.fetched_by(self.snapshot)}"
        )
        picked = ", ".join(sql.ident(c) for c in cleaned if c in fct and c != "plant_id")
        in_day = f"(recorded_at is null or (recorded_at >= {day} and recorded_at < {day} + 1))"
        if {"plant_id", "recording_taken_original"} <= set(fct):
            # The dbt project keeps the text as sent: an exact one-to-one match.
            joined = (
                f"left join (select plant_id, recording_taken_original, {picked} "
                f"from {sql.table(sql.FCT_READINGS)} where {in_day}) f "
                "on f.plant_id = r.plant_id and f.recording_taken_original = r.recording_taken"
            )
        elif {"plant_id", "recorded_at"} <= set(fct):
            joined = (
                f"left join (select distinct on (plant_id, recorded_at) plant_id, {picked} "
                f"from {sql.table(sql.FCT_READINGS)} where {in_day} "
                "order by plant_id, recorded_at, reading_id) f "
                "on f.plant_id = r.plant_id and f.recorded_at = r._lnhm_at"
            )
        else:
            joined = ""
        # No ORDER BY: a sort of a day of wide rows costs far more than it saves (see README).
        return f"select {', '.join(out)} from ({hot}) r {joined}"

    def _failures_select(self, d: date) -> str:
        cols = [c for c in self.columns[sql.FAILURES] if not c.startswith("_dlt")]
        return (
            f"select {', '.join(sql.ident(c) for c in cols)} from {sql.table(sql.FAILURES)} "
            f"where {sql.failure_day()} = {sql.literal(d)} and {sql.fetched_by(self.snapshot)} "
            "order by fetched_at, plant_id"
        )

    def _source_stats(self, kind: str, d: date) -> tuple[int, str]:
        if kind == "readings":
            ref, where, key = sql.READINGS, sql.reading_day(), sql.READING_KEY
        else:
            ref, where, key = sql.FAILURES, sql.failure_day(), sql.FAILURE_KEY
        return tuple(
            self.con.execute(
                f"select count(*), {sql.checksum(key)} from {sql.table(ref)} "
                f"where {where} = {sql.literal(d)} and {sql.fetched_by(self.snapshot)}"
            ).fetchone()
        )

    def _file_stats(self, urls: list[str], key: tuple[str, ...]) -> tuple[int, str]:
        return tuple(
            self.con.execute(
                f"select count(*), {sql.checksum(key)} from {sql.files(urls)}"
            ).fetchone()
        )

    def _copy(self, select: str, key: str) -> str:
        self.store.prepare(key)
        url = self.store.duck_url(key)
        self.con.execute(f"copy ({select}) to {sql.literal(url)} ({sql.PARQUET})")
        return url

    # ------------------------------------------------------------------ one day
    def _stage(self, kind: str, d: Day, entry: dict | None, stage: str) -> dict | None:
        """Write, read back and verify one kind of the day; return what to publish."""
        key = sql.READING_KEY if kind == "readings" else sql.FAILURE_KEY
        hot_n = d.readings if kind == "readings" else d.failures
        old = [f for f in (entry or {}).get("files", []) if f.startswith(f"{kind}/")]
        if not hot_n and not old:
            return None
        hot_key = f"{stage}/{kind}-hot.parquet"
        if hot_n:
            select = (
                self._readings_select(d.day) if kind == "readings" else self._failures_select(d.day)
            )
            hot_url = self._copy(select, hot_key)
            reached("staged", hot_url)
            written = self._file_stats([hot_url], key)
            source = self._source_stats(kind, d.day)
            if written != source:
                raise JobFailed(
                    f"{d.day}: {kind} read back {written[0]} rows (checksum {written[1]}) but the "
                    f"hot store has {source[0]} (checksum {source[1]}); nothing deleted"
                )
            cols = ", ".join(sql.ident(c) for c in key)
            extra = ", recorded_at" if kind == "readings" else ""
            parse = f", {sql.parse_time('recording_taken')} as recorded_at" if extra else ""
            self.con.execute(
                f"create or replace temp table archived_{kind} as "
                f"select distinct {cols}{parse} from {sql.files([hot_url])}"
            )
        else:
            # Nothing new of this kind: the published files stay as they are.
            prefix = "readings" if kind == "readings" else "fetch_failures"
            return {
                "keep": old,
                "rows": entry[prefix],
                "checksum": entry[f"{prefix}_checksum"],
                "bytes": entry.get(f"{prefix}_bytes", 0),
                "hot": 0,
            }
        if kind == "readings":
            self.unmatched += self.con.execute(
                f"select count(*) from {sql.files([hot_url])} where reading_id is null"
            ).fetchone()[0]
        if not old:
            return {"key": hot_key, "rows": written[0], "checksum": written[1], "hot": hot_n}
        # Published before (late rows, or a run killed before its prune): merge, one copy each.
        old_urls = [self.store.duck_url(f) for f in old]
        final_key = f"{stage}/{kind}.parquet"
        on = " and ".join(f"h.{sql.ident(c)} = o.{sql.ident(c)}" for c in key)
        hot_src = sql.files([self.store.duck_url(hot_key)])
        select = (
            f"select * from {hot_src} union all by name select * from {sql.files(old_urls)} o "
            f"where not exists (select 1 from {hot_src} h where {on})"
        )
        union = (
            f"select {', '.join(sql.ident(c) for c in key)} from {hot_src} union "
            f"select {', '.join(sql.ident(c) for c in key)} from {sql.files(old_urls)}"
        )
        final_url = self._copy(select, final_key)
        merged = self._file_stats([final_url], key)
        expected = tuple(
            self.con.execute(f"select count(*), {sql.checksum(key)} from ({union})").fetchone()
        )
        if merged != expected:
            raise JobFailed(
                f"{d.day}: merged {kind} read back {merged[0]} rows but {expected[0]} distinct "
                "rows were expected; nothing deleted"
            )
        return {"key": final_key, "rows": merged[0], "checksum": merged[1], "hot": hot_n}

    def archive_day(self, d: Day, manifest: dict) -> None:
        started = time.monotonic()
        iso = d.day.isoformat()
        entry = manifest["days"].get(iso)
        stage = f"_staging/{self.run_id}/{iso}"
        staged = {
            kind: self._stage(kind, d, entry, stage) for kind in ("readings", "fetch_failures")
        }
        reached("verified")

        # Publish: new names, then the manifest switch, then the old files go.
        files, sizes = [], {}
        for kind, part in staged.items():
            if part is None or part["rows"] == 0:
                continue
            if "keep" in part:
                files.extend(part["keep"])
                sizes[kind] = part["bytes"]
                continue
            size = self.store.size(part["key"])
            dst = f"{kind}/day={iso}/part-{self.run_id}.parquet"
            self.store.move(part["key"], dst)
            if self.store.size(dst) != size:
                raise StoreError(f"{dst}: size changed while publishing; nothing deleted")
            files.append(dst)
            sizes[kind] = size
        reached("moved")  # published names, not listed yet: a kill here leaves leftovers
        readings = staged["readings"] or {"rows": 0, "checksum": "0"}
        failures = staged["fetch_failures"] or {"rows": 0, "checksum": "0"}
        manifest["days"][iso] = {
            "label": mf.label(d.day),
            "readings": readings["rows"],
            "readings_bytes": sizes.get("readings", 0),
            "readings_checksum": readings["checksum"],
            "fetch_failures": failures["rows"],
            "fetch_failures_bytes": sizes.get("fetch_failures", 0),
            "fetch_failures_checksum": failures["checksum"],
            "files": files,
            "archived_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "run_id": self.run_id,
        }
        mf.save(self.store, manifest)
        reached("published")
        replaced = [f for f in (entry or {}).get("files", []) if f not in files]
        if replaced:
            self.store.delete(replaced)

        hot_r = readings.get("hot", 0) if staged["readings"] else 0
        hot_f = failures.get("hot", 0) if staged["fetch_failures"] else 0
        if hot_r or hot_f:
            self.prune(d.day, hot_r, hot_f)
        reached("pruned")
        self.store.clear(stage)

        nbytes = sum(size for kind, size in sizes.items() if "keep" not in staged[kind])
        self.counts["days_archived"] += 1
        self.counts["days"].append(iso)
        self.counts["readings"] += hot_r
        self.counts["fetch_failures"] += hot_f
        self.counts["bytes"] += nbytes
        again = " (merged with its earlier partition)" if entry else ""
        say(
            f"{iso} ({mf.label(d.day)}): {hot_r:,} readings, {hot_f:,} failed requests -> "
            f"{format_bytes(nbytes)}{again}; verified, published, pruned "
            f"({time.monotonic() - started:.1f} s)"
        )

    # ------------------------------------------------------------------ prune
    def prune(self, d: date, readings: int, failures: int) -> None:
        for kind in ("readings", "fetch_failures"):
            n = readings if kind == "readings" else failures
            if not n:
                self.con.execute(
                    f"create or replace temp table archived_{kind} as "
                    + (
                        "select 0::bigint as plant_id, ''::varchar as recording_taken, "
                        "null::timestamp as recorded_at limit 0"
                        if kind == "readings"
                        else "select ''::varchar as run_id, 0::bigint as plant_id limit 0"
                    )
                )
        if self.settings.warehouse == "duckdb":
            self._prune_duckdb(d, readings, failures)
        else:
            with writer_lock(self.settings, job="archive"):
                self._prune_postgres(d, readings, failures)

    def _reading_match(self, ref: tuple[str, str], keys: str = "archived_readings") -> str:
        """``<keys> k where ...``: the rows of a per-reading table that match archived readings."""
        if "recording_taken_original" in self.columns[ref]:
            return (
                f"{keys} k where t.plant_id = k.plant_id "
                "and t.recording_taken_original = k.recording_taken"
            )
        return (
            f"(select distinct plant_id, recorded_at from {keys} where recorded_at is not null) k "
            "where t.plant_id = k.plant_id and t.recorded_at = k.recorded_at"
        )

    def _check_deleted(self, d: date, what: str, deleted: int, expected: int) -> None:
        if deleted != expected:
            raise JobFailed(
                f"{d}: would delete {deleted} {what} rows from the hot store but archived "
                f"{expected}; rolled back, nothing deleted"
            )

    def _prune_statements(
        self, catalog: str, keys_r: str, keys_f: str, readings: int, failures: int
    ) -> list[tuple[str, str, int | None]]:
        """(what, DELETE, expected rows) for every hot table holding archived rows.

        ``raw_staging`` is dlt's merge staging area: it keeps a copy of the last load until the
        next one, so archived keys go from there too (not counted).
        """

        def name(ref: tuple[str, str]) -> str:
            return f"{catalog}{sql.ident(ref[0])}.{sql.ident(ref[1])}"

        out: list[tuple[str, str, int | None]] = []
        for schema in ("raw", "raw_staging"):
            counted = schema == "raw"
            ref = (schema, sql.READINGS[1])
            if ref in self.columns:
                out.append(
                    (
                        "reading",
                        f"delete from {name(ref)} t using {keys_r} k "
                        "where t.plant_id = k.plant_id and t.recording_taken = k.recording_taken",
                        readings if counted else None,
                    )
                )
            ref = (schema, sql.FAILURES[1])
            if ref in self.columns:
                out.append(
                    (
                        "failed-request",
                        f"delete from {name(ref)} t using {keys_f} k "
                        "where t.run_id = k.run_id and t.plant_id = k.plant_id",
                        failures if counted else None,
                    )
                )
        for ref in self._per_reading_tables():
            out.append(
                (
                    "cleaned reading",
                    f"delete from {name(ref)} t using {self._reading_match(ref, keys_r)}",
                    None,
                )
            )
        return out

    def _prune_duckdb(self, d: date, readings: int, failures: int) -> None:
        con = self.con
        statements = self._prune_statements(
            "hot.", "archived_readings", "archived_fetch_failures", readings, failures
        )
        con.execute("begin transaction")
        try:
            for what, statement, expected in statements:
                n = con.execute(statement).fetchone()[0]
                if expected is not None:
                    self._check_deleted(d, what, n, expected)
            con.execute("commit")
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.execute("rollback")
            raise

    def _prune_postgres(self, d: date, readings: int, failures: int) -> None:
        import psycopg2

        csv_r, csv_f = self.tmp / "readings.csv", self.tmp / "failures.csv"
        self.con.execute(
            "copy (select plant_id, recording_taken, recorded_at from archived_readings) "
            f"to {sql.literal(str(csv_r))} (format csv, header false)"
        )
        self.con.execute(
            "copy (select run_id, plant_id from archived_fetch_failures) "
            f"to {sql.literal(str(csv_f))} (format csv, header false)"
        )
        statements = self._prune_statements(
            "", "lnhm_archived_readings", "lnhm_archived_failures", readings, failures
        )
        conn = psycopg2.connect(self.settings.postgres_dsn(), application_name="lnhm-archive")
        try:
            with conn, conn.cursor() as cur:  # one transaction: commit on success, else rollback
                cur.execute(
                    "create temp table lnhm_archived_readings (plant_id bigint, "
                    "recording_taken text, recorded_at timestamp) on commit drop"
                )
                cur.execute(
                    "create temp table lnhm_archived_failures (run_id text, plant_id bigint) "
                    "on commit drop"
                )
                with open(csv_r) as fh:
                    cur.copy_expert("copy lnhm_archived_readings from stdin (format csv)", fh)
                with open(csv_f) as fh:
                    cur.copy_expert("copy lnhm_archived_failures from stdin (format csv)", fh)
                cur.execute("analyze lnhm_archived_readings")
                for what, statement, expected in statements:
                    cur.execute(statement)
                    if expected is not None:
                        self._check_deleted(d, what, cur.rowcount, expected)
        finally:
            conn.close()

    # ------------------------------------------------------------------ housekeeping
    def check_archive(self, manifest: dict) -> None:
        """Listed files exist (and read back with ``--verify``); only provable leftovers go.

        See archive/audit.py: an unlisted file is removed only when every key in it is also in
        a listed file or still in the hot store; anything else stops the run before it deletes
        or prunes a thing.
        """
        files = audit.stored(self.store)
        audit.check_listed(self.store, manifest, files)
        if self.verify:
            n = audit.verify_listed(self.con, self.store, manifest)
            say(f"verified {n} listed file(s): row counts and key checksums match the manifest")
        stale = audit.leftovers(self.con, self.store, manifest, files, set(self.columns))
        if stale and self.dry_run:
            say(f"would remove {len(stale)} leftover file(s) of an interrupted run")
        elif stale:
            say(
                f"removing {len(stale)} leftover file(s) of an interrupted run (every row of each "
                "is also in a listed file or still in the hot store)"
            )
            self.store.delete(stale)
        if not self.dry_run:
            self.store.clear("_staging")  # never read; see archive/audit.py

    def run(self) -> None:
        c = self.counts
        c.update(days_archived=0, days=[], readings=0, fetch_failures=0, bytes=0, days_skipped=0)
        manifest = mf.load(self.store)
        self.check_archive(manifest)
        if sql.READINGS not in self.columns and sql.FAILURES not in self.columns:
            say("nothing to archive: the hot store has no raw tables yet (run make ingest)")
            return
        days = self.plan()
        cutoff = self.now - timedelta(hours=self.settings.retention_hours)
        if not days:
            say(
                f"nothing to archive: no whole UTC day ends before {cutoff:%Y-%m-%d %H:%M} UTC "
                f"(retention {self.settings.retention_hours:g} h)"
            )
        for i, d in enumerate(days, 1):
            gap = self.coverage_gap(d)
            if gap:
                c["days_skipped"] += 1
                say(f"SKIPPING {d.day} ({mf.label(d.day)}): {gap}; it stays in the hot store")
                continue
            if self.dry_run:
                say(
                    f"[{i}/{len(days)}] would archive {d.day}: {d.readings:,} readings, "
                    f"{d.failures:,} failed requests"
                )
                continue
            say(
                f"[{i}/{len(days)}] {d.day}: {d.readings:,} readings, {d.failures:,} failed "
                "requests ..."
            )
            self.archive_day(d, manifest)
        if self.unmatched:
            say(
                f"{self.unmatched:,} archived readings had no fct_readings row (archived with null "
                "cleaned columns): run dbt build before the archive"
            )
        c["readings_without_cleaned_values"] = self.unmatched

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.con.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def run_lock(settings: Settings, job: str = "archive"):
    """The lock an archive run (or repair) holds for its whole length.

    DuckDB hot store: the hot store's writer lock (one process may hold a DuckDB file for
    writing). PostgreSQL serves readers and writers at once: an ``archive`` lock keeps other
    archive runs out, and the prune takes the hot store's writer lock only for its transaction.
    """
    if settings.warehouse == "duckdb":
        return writer_lock(settings, job=job)
    return writer_lock(settings, name="archive", job=job)


def run(
    settings: Settings,
    counts: dict,
    now: datetime | None = None,
    dry_run: bool = False,
    verify: bool = False,
) -> None:
    """Archive every whole day older than the retention; raise with a one-line reason on failure."""
    now = now or datetime.now(UTC)
    store = open_store(settings.archive_url, settings)
    store.check()  # unreachable S3, bad credentials, no bucket: stop before touching anything
    if settings.warehouse == "duckdb":
        if not settings.duckdb_path.exists():
            say(f"nothing to archive: {settings.duckdb_path} does not exist yet")
            counts.update(days_archived=0, readings=0, fetch_failures=0, bytes=0)
            return
        hot = "rw"
    else:
        hot = "ro"
    with run_lock(settings):
        try:
            con = duck.connect(settings, hot=hot)
        except duckdb.Error as exc:
            raise JobFailed("cannot open the hot store") from exc
        archiver = Archiver(settings, store, con, now, counts, dry_run=dry_run, verify=verify)
        try:
            archiver.run()
        except duckdb.Error as exc:
            hint = ""
            if settings.archive_is_s3 and "timeout" in str(exc).lower():
                hint = (
                    f" (S3 did not answer within LNHM_S3_TIMEOUT={settings.s3_timeout_s:g} s, "
                    f"LNHM_S3_RETRIES={settings.s3_retries})"
                )
            raise JobFailed(
                f"archive {settings.archive_url}: the failing day was not deleted from the hot "
                f"store{hint}"
            ) from exc
        finally:
            archiver.close()
