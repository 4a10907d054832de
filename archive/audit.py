"""The archive's files against its manifest, before a run changes anything.

The Parquet files are the truth; ``manifest.json`` is only their index, and an index can be
lost, rolled back by a restore, or point at a file someone deleted. So, before a run deletes or
prunes anything:

- every listed file must exist, with the size the manifest recorded (cheap: one listing);
  ``--verify`` also reads each one back (row count and key checksum as the manifest holds them);
- an unlisted Parquet file under ``readings/`` or ``fetch_failures/`` is deleted only when it is
  provably a leftover: every key in it is also in a listed file of the same day or still in the
  hot store (a run killed between moving a file to its published name and the manifest switch,
  or after a merge's switch but before the day's old file went). A file holding a row found
  nowhere else means the manifest lost it: the run refuses and says ``make archive-repair``.

``_staging/`` is never read and always safe to clear: a staged file either was never published
(its rows are still hot) or is the hot half of a merge whose published result holds its rows.
"""

from __future__ import annotations

import re

import duckdb

from archive import manifest as mf
from archive import sql
from lnhm.joblog import JobFailed

KINDS = ("readings", "fetch_failures")
KEYS = {"readings": sql.READING_KEY, "fetch_failures": sql.FAILURE_KEY}
HOT = {"readings": sql.READINGS, "fetch_failures": sql.FAILURES}
PARTITION = re.compile(r"^(readings|fetch_failures)/day=(\d{4}-\d{2}-\d{2})/[^/]+\.parquet$")


class AuditError(JobFailed):
    """The archive's files and its manifest disagree in a way that could lose data."""


def stored(store) -> dict[str, int]:
    """Every Parquet file of the archive's layout, with its size."""
    out: dict[str, int] = {}
    for kind in KINDS:
        out.update({k: n for k, n in store.list(f"{kind}/").items() if PARTITION.match(k)})
    return out


def _names(keys: list[str], limit: int = 3) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def _listed(entry: dict, kind: str) -> list[str]:
    return [f for f in entry.get("files", []) if f.startswith(f"{kind}/")]


def check_listed(store, manifest: dict, files: dict[str, int]) -> None:
    """Every listed file exists with the recorded size; else ``AuditError`` naming them."""
    missing: list[str] = []
    rows_missing: list[str] = []
    resized: list[str] = []
    for day, entry in sorted(manifest["days"].items()):
        for kind in KINDS:
            listed = _listed(entry, kind)
            gone = [f for f in listed if f not in files]
            if gone:
                missing += gone
                rows_missing.append(f"{entry.get(kind, '?')} {kind.replace('_', ' ')} of {day}")
                continue
            expected = entry.get(f"{kind}_bytes")
            actual = sum(files[f] for f in listed)
            if listed and expected and actual != expected:
                resized.append(f"{_names(listed)} ({actual} bytes, manifest: {expected})")
    where = store.duck_url(mf.KEY)
    if missing:
        raise AuditError(
            f"{len(missing)} file(s) listed in {where} are missing: {_names(missing)} "
            f"({'; '.join(rows_missing[:3])} per the manifest); nothing archived or pruned: "
            "restore them from a backup, or run `make archive-repair` to rebuild the manifest "
            "from the files that exist (their rows are then gone from the archive)"
        )
    if resized:
        raise AuditError(
            f"{len(resized)} day(s) of {where} have files of another size than listed: "
            f"{'; '.join(resized[:3])}; nothing archived or pruned: restore them from a "
            "backup, or run `make archive-repair` to rebuild the manifest from the files"
        )


def verify_listed(con: duckdb.DuckDBPyConnection, store, manifest: dict) -> int:
    """Read every listed file back whole: it must decode, and its rows and key checksum per day
    must be the manifest's (a changed value outside the keys that still decodes is not seen:
    the manifest holds no checksum of whole rows)."""
    bad: list[str] = []
    checked = 0
    for _day, entry in sorted(manifest["days"].items()):
        for kind in KINDS:
            listed = _listed(entry, kind)
            if not listed:
                continue
            urls = [store.duck_url(f) for f in listed]
            try:
                # hash of the whole row: every column's pages are decoded, not only the keys
                rows, checksum, _ = con.execute(
                    f"select count(*), {sql.checksum(KEYS[kind])}, max(hash(f)) "
                    f"from {sql.files(urls)} f"
                ).fetchone()
            except duckdb.Error as exc:
                bad.append(f"{_names(listed)} cannot be read ({str(exc).splitlines()[0]})")
                continue
            checked += len(listed)
            want = (entry.get(kind), entry.get(f"{kind}_checksum"))
            if (rows, str(checksum)) != want:
                bad.append(
                    f"{_names(listed)} hold {rows} rows (checksum {checksum}), the manifest "
                    f"{want[0]} (checksum {want[1]})"
                )
    if bad:
        raise AuditError(
            f"verification of {store.duck_url(mf.KEY)} failed: {'; '.join(bad[:3])}; nothing "
            "archived or pruned: restore the files from a backup, or run `make archive-repair`"
        )
    return checked


def _unique_rows(
    con: duckdb.DuckDBPyConnection,
    store,
    key: str,
    others: list[str],
    hot_tables: set[tuple[str, str]],
) -> int:
    """Distinct keys of file ``key`` that are in none of ``others`` and not in the hot store."""
    kind = PARTITION.match(key).group(1)
    cols = KEYS[kind]
    match = " and ".join(f"o.{sql.ident(c)} = f.{sql.ident(c)}" for c in cols)
    where = []
    if others:
        where.append(
            f"not exists (select 1 from {sql.files([store.duck_url(o) for o in others])} o "
            f"where {match})"
        )
    if HOT[kind] in hot_tables:
        where.append(f"not exists (select 1 from {sql.table(HOT[kind])} o where {match})")
    column_list = ", ".join(sql.ident(c) for c in cols)
    query = (
        f"select count(*) from (select distinct {column_list} "
        f"from {sql.files([store.duck_url(key)])}) f"
    )
    if where:
        query += " where " + " and ".join(where)
    return con.execute(query).fetchone()[0]


def leftovers(
    con: duckdb.DuckDBPyConnection,
    store,
    manifest: dict,
    files: dict[str, int],
    hot_tables: set[tuple[str, str]],
) -> list[str]:
    """Unlisted files that are provably leftovers; ``AuditError`` if any other is unlisted."""
    listed = mf.listed_files(manifest)
    unlisted = sorted(
        (k for k in files if k not in listed), key=lambda k: (not k.startswith("readings/"), k)
    )
    safe: list[str] = []
    holding: list[str] = []
    unique = 0
    for key in unlisted:
        kind, day = PARTITION.match(key).groups()
        others = _listed(manifest["days"].get(day, {}), kind)
        try:
            n = _unique_rows(con, store, key, others, hot_tables)
        except duckdb.Error:
            holding.append(f"{key} (unreadable)")
            continue
        if n:
            holding.append(key)
            unique += n
        else:
            safe.append(key)
    if holding:
        raise AuditError(
            f"{len(holding)} Parquet file(s) that {store.duck_url(mf.KEY)} does not list hold "
            f"{unique} rows found in no listed file and not in the hot store: "
            f"{_names(holding)}; the manifest was lost or rolled back? Nothing deleted or "
            "pruned: run `make archive-repair` to rebuild the manifest from the files"
        )
    return safe
