"""``python -m archive.repair`` (`make archive-repair`): rebuild manifest.json from the files.

For when ``make archive`` refuses because the manifest is lost, rolled back, corrupt, or lists a
file that is gone. The Parquet files under ``readings/day=*/`` and ``fetch_failures/day=*/``
are the truth: per day and kind, the files are read (row count, key checksum, size, as the job
writes them into the manifest) and listed. When a day has several files of a kind (a run killed
after a merge's switch, before the day's old file went), the newest run's file is taken and an
older one whose keys it all holds is left out (the next ``make archive`` removes it); files that
share some keys but not all are not something the job produces, and stop the repair.

Nothing is deleted, in the archive or in the hot store. The previous manifest, if any, is kept
beside it as ``manifest.json.bak-<UTC time>``, and every difference to it is said on stderr:
a file it listed that no longer exists is a ``LOST`` line with its row counts. Run ``make
archive`` next: a day still held in the hot store (a run killed before its prune) is merged
there, one copy per key.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, date, datetime

import duckdb

from archive import audit, sql
from archive import manifest as mf
from archive.store import open_store
from lnhm import duck
from lnhm import settings as lnhm_settings
from lnhm.joblog import JobFailed, run_job
from lnhm.settings import Settings

RUN_ID = re.compile(r"part-(.+)\.parquet$")


def say(message: str) -> None:
    print(f"archive-repair: {message}", file=sys.stderr, flush=True)


def _run_of(key: str) -> str:
    found = RUN_ID.search(key)
    return found.group(1) if found else ""


def _stats(con, store, keys: list[str], kind: str) -> tuple[int, str]:
    urls = [store.duck_url(k) for k in keys]
    rows, checksum = con.execute(
        f"select count(*), {sql.checksum(audit.KEYS[kind])} from {sql.files(urls)}"
    ).fetchone()
    return rows, str(checksum)


def _distinct_outside(con, store, key: str, kept: list[str], kind: str) -> tuple[int, int]:
    """(distinct keys of ``key``, how many of them no file in ``kept`` holds)."""
    cols = ", ".join(sql.ident(c) for c in audit.KEYS[kind])
    mine = f"select distinct {cols} from {sql.files([store.duck_url(key)])}"
    total = con.execute(f"select count(*) from ({mine})").fetchone()[0]
    if not kept:
        return total, total
    theirs = f"select {cols} from {sql.files([store.duck_url(k) for k in kept])}"
    outside = con.execute(f"select count(*) from ({mine} except {theirs})").fetchone()[0]
    return total, outside


def choose(con, store, day: str, kind: str, keys: list[str], notes: list[str]) -> list[str]:
    """The files of one day and kind to list: newest first, subsets of kept ones left out."""
    kept: list[str] = []
    for key in sorted(keys, key=lambda k: (_run_of(k), k), reverse=True):
        try:
            total, outside = _distinct_outside(con, store, key, kept, kind)
        except duckdb.Error as exc:
            notes.append(f"{key} cannot be read ({str(exc).splitlines()[0]}); left out, kept")
            continue
        if kept and outside == 0:
            notes.append(
                f"{key}: every row is also in {kept[0]}; left out (make archive deletes it)"
            )
        elif kept and outside != total:
            raise JobFailed(
                f"{day}: {key} shares {total - outside} keys with {', '.join(kept)} but holds "
                f"{outside} others; cannot choose automatically; nothing changed"
            )
        else:
            kept.append(key)
    return sorted(kept)


def rebuild(con, store, files: dict[str, int], old: dict | None, now: datetime) -> dict:
    """A manifest listing the files, each day's entry as the archive job writes it."""
    groups: dict[tuple[str, str], list[str]] = {}
    for key in files:
        kind, day = audit.PARTITION.match(key).groups()
        groups.setdefault((day, kind), []).append(key)
    notes: list[str] = []
    manifest = mf.empty()
    old_days = (old or {}).get("days", {})
    for day in sorted({d for d, _ in groups}):
        entry: dict = {"label": mf.label(date.fromisoformat(day))}
        listed: list[str] = []
        for kind in audit.KINDS:
            keys = choose(con, store, day, kind, groups.get((day, kind), []), notes)
            rows, checksum = _stats(con, store, keys, kind) if keys else (0, "0")
            entry[kind] = rows
            entry[f"{kind}_bytes"] = sum(files[k] for k in keys)
            entry[f"{kind}_checksum"] = checksum
            listed += keys
        before = old_days.get(day, {})
        same = sorted(before.get("files", [])) == sorted(listed)
        entry["files"] = listed
        entry["archived_at"] = before.get("archived_at") if same else None
        entry["archived_at"] = entry["archived_at"] or now.isoformat(timespec="seconds")
        entry["run_id"] = max((_run_of(k) for k in listed), default="")
        if not same:
            entry["repaired_at"] = now.isoformat(timespec="seconds")
        manifest["days"][day] = entry
    for note in notes:
        say(note)
    return manifest


def compare(old: dict | None, new: dict, files: dict[str, int]) -> int:
    """Say how the rebuilt manifest differs from the old one; return the files it lost."""
    if old is None:
        return 0
    lost = 0
    for day, entry in sorted(old.get("days", {}).items()):
        gone = [f for f in entry.get("files", []) if f not in files]
        for key in gone:
            kind = key.split("/")[0]
            lost += 1
            say(
                f"LOST: {key} is listed in the old manifest but does not exist: {day} had "
                f"{entry.get(kind, '?')} {kind.replace('_', ' ')} there; restore the file from a "
                "backup and run make archive-repair again, or they are gone from the archive"
            )
        now = new["days"].get(day, {})
        for kind in audit.KINDS:
            if not gone and entry.get(kind) != now.get(kind):
                say(f"{day}: {kind.replace('_', ' ')} {entry.get(kind)} -> {now.get(kind, 0)}")
    for day in sorted(set(new["days"]) - set(old.get("days", {}))):
        e = new["days"][day]
        say(
            f"{day}: not in the old manifest; listed again ({e['readings']} readings, "
            f"{e['fetch_failures']} failed requests)"
        )
    return lost


def run(settings: Settings, counts: dict, dry_run: bool = False) -> None:
    from archive.job import run_lock

    store = open_store(settings.archive_url, settings)
    store.check()
    with run_lock(settings, job="archive-repair"):
        data = store.read_bytes(mf.KEY)
        old = None
        if data is not None:
            try:
                old = mf.load(store)
            except mf.ManifestError as exc:
                say(f"the old manifest cannot be used ({exc}); rebuilding without it")
        files = audit.stored(store)
        now = datetime.now(UTC)
        con = duck.connect(settings, hot=None)
        try:
            manifest = rebuild(con, store, files, old, now)
        except duckdb.Error as exc:
            raise JobFailed(f"cannot read the files of {settings.archive_url}") from exc
        finally:
            con.close()
        lost = compare(old, manifest, files)
        days = manifest["days"].values()
        counts.update(
            days=len(manifest["days"]),
            files=sum(len(e["files"]) for e in days),
            files_left_out=len(files) - sum(len(e["files"]) for e in days),
            readings=sum(e["readings"] for e in days),
            fetch_failures=sum(e["fetch_failures"] for e in days),
            old_files_missing=lost,
        )
        was = (
            "there was none"
            if data is None
            else "the old one was unreadable"
            if old is None
            else f"the old one listed {sum(e.get('readings', 0) for e in old['days'].values())}"
            " readings"
        )
        if dry_run:
            say(f"dry run: would rebuild {mf.KEY} with {counts['readings']} readings ({was})")
            return
        if data is not None:
            backup = f"{mf.KEY}.bak-{now:%Y%m%dT%H%M%SZ}"
            store.write_bytes(backup, data)
        mf.save(store, manifest)
        say(
            f"{store.duck_url(mf.KEY)} rebuilt from {counts['files']} file(s): "
            f"{counts['days']} day(s), {counts['readings']} readings, "
            f"{counts['fetch_failures']} failed requests ({was}); run make archive next"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m archive.repair", description=__doc__)
    parser.add_argument(
        "--dry-run", action="store_true", help="say what the rebuilt manifest would hold"
    )
    args = parser.parse_args(argv)
    return run_job("archive-repair", lambda counts: run(lnhm_settings.load(), counts, args.dry_run))


if __name__ == "__main__":
    sys.exit(main())
