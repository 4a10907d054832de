"""Fault matrix, the archive's manifest: lost, rolled back, truncated; a listed file deleted.

The archive's Parquet files are the truth and ``manifest.json`` only their index: whatever
happens to the index, `make archive` must never delete a file that holds readings found nowhere
else. Each test builds the known history of ``tests/test_archive.py`` (5 plants, 25-28 Nov
2026), archives some days (which prunes them from the hot store), breaks the manifest or a file
the way an operator or a restore would, and checks the ledger against the generator: every
reading served is in the hot store or in a Parquet file the manifest lists, never both, never
twice, and what the job says is one line on stderr.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.test_archive import (
    NOW,
    ROOT,
    Reading,
    Tier,
    assert_exactly_one_tier,
    failures,
    history,
)

DAY = timedelta(days=1)
PER_DAY = 5 * 144  # readings of one whole day (plus one extra reading on 25 Nov)


@pytest.fixture(params=["duckdb-local", "duckdb-s3"])
def tier(request, tmp_path) -> Tier:
    hot, target = request.param.split("-")
    s3 = request.getfixturevalue("s3") if target == "s3" else None
    return Tier(hot, target, tmp_path, s3=s3)


@pytest.fixture(params=["duckdb-local", "duckdb-s3", "postgres-local"])
def any_tier(request, tmp_path) -> Tier:
    """The PostgreSQL hot store too, where the proof's hot-store lookup goes through DuckDB's
    postgres extension."""
    hot, target = request.param.split("-")
    s3 = request.getfixturevalue("s3") if target == "s3" else None
    pg = request.getfixturevalue("postgres_env") if hot == "postgres" else None
    return Tier(hot, target, tmp_path, postgres_env=pg, s3=s3)


@pytest.fixture
def duck_local(tmp_path) -> Tier:
    return Tier("duckdb", "local", tmp_path)


# ---------------------------------------------------------------------------- helpers
def put(tier: Tier, key: str, data: bytes) -> None:
    if tier.target == "local":
        (tier.root / key).parent.mkdir(parents=True, exist_ok=True)
        (tier.root / key).write_bytes(data)
    else:
        tier.s3.client().put_object(Bucket=tier.bucket, Key=f"{tier.prefix}/{key}", Body=data)


def remove(tier: Tier, key: str) -> None:
    if tier.target == "local":
        (tier.root / key).unlink()
    else:
        tier.s3.client().delete_object(Bucket=tier.bucket, Key=f"{tier.prefix}/{key}")


def late_readings() -> list[Reading]:
    """Five readings of a sixth plant on 26 Nov, arriving after the day was archived."""
    return [Reading(6, datetime(2026, 11, 26, 9, m, tzinfo=UTC), 55.0, 12.0) for m in range(5)]


def parquet_files(tier: Tier) -> set[str]:
    return {f for f in tier.stored_files() if f.endswith(".parquet")}


def lost(tier: Tier, readings) -> int:
    """Readings served that are in neither the hot store nor a listed Parquet file."""
    return len({r.key for r in readings} - set(tier.hot_keys()) - set(tier.archived_keys()))


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def repair(tier: Tier, *args: str) -> subprocess.CompletedProcess:
    """``python -m archive.repair`` (what `make archive-repair` runs) on the tier."""
    return subprocess.run(
        [sys.executable, "-m", "archive.repair", *args],
        cwd=ROOT,
        env=tier.env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_refused_and_untouched(tier: Tier, result, files_before: set[str], hot_before: int):
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["outcome"] == "failed"
    assert parquet_files(tier) == files_before, "the job deleted archive files"
    assert tier.count("raw.plant_readings") == hot_before, "the job pruned the hot store"


# ---------------------------------------------------------------------------- manifest lost
def test_manifest_deleted_refuses_then_repair_restores_every_reading(any_tier):
    tier = any_tier
    readings, fails = history(), failures()
    tier.load(readings, fails)
    first = tier.run()  # archives and prunes 25 and 26 Nov
    assert first.returncode == 0, first.stderr
    archived_before = tier.manifest()["days"]
    files = parquet_files(tier)
    assert len(files) == 4
    remove(tier, "manifest.json")
    hot_before = tier.count("raw.plant_readings")

    # A day later 27 Nov is due too; the job must not take the unlisted files for leftovers.
    result = tier.run(now=NOW + DAY)
    line = one_line(result)
    assert "make archive-repair" in line and "manifest" in line, line
    assert_refused_and_untouched(tier, result, files, hot_before)
    assert lost(tier, readings) == 2 * PER_DAY + 1  # only until the manifest is rebuilt

    fixed = repair(tier)
    assert fixed.returncode == 0, fixed.stderr
    assert "rebuilt" in fixed.stderr
    rebuilt = tier.manifest()["days"]
    assert sorted(rebuilt) == sorted(archived_before)
    for day, entry in archived_before.items():
        for field in ("readings", "readings_checksum", "readings_bytes", "fetch_failures"):
            assert rebuilt[day][field] == entry[field], (day, field)
        assert sorted(rebuilt[day]["files"]) == sorted(entry["files"])
        assert rebuilt[day]["label"] == entry["label"]
    assert lost(tier, readings) == 0

    again = tier.run(now=NOW + DAY)
    assert again.returncode == 0, again.stderr
    assert sorted(tier.manifest()["days"]) == ["2026-11-25", "2026-11-26", "2026-11-27"]
    assert_exactly_one_tier(tier, readings, fails)


def test_manifest_rolled_back_refuses_then_repair_restores_every_reading(tier):
    readings, fails = history(), failures()
    tier.load(readings, fails)
    assert tier.run(now=NOW - DAY).returncode == 0  # archives 25 Nov
    older = tier.read("manifest.json")
    assert tier.run().returncode == 0  # archives 26 Nov
    put(tier, "manifest.json", older)  # a backup put back
    files = parquet_files(tier)
    hot_before = tier.count("raw.plant_readings")

    result = tier.run()
    line = one_line(result)
    assert "make archive-repair" in line and "readings/day=2026-11-26/" in line, line
    assert_refused_and_untouched(tier, result, files, hot_before)

    assert repair(tier).returncode == 0
    assert sorted(tier.manifest()["days"]) == ["2026-11-25", "2026-11-26"]
    again = tier.run(now=NOW + DAY)
    assert again.returncode == 0, again.stderr
    assert_exactly_one_tier(tier, readings, fails)


def test_manifest_rolled_back_past_a_merge_reports_the_missing_file(duck_local):
    """The older manifest lists a day's file that a later merge replaced (and deleted)."""
    tier = duck_local
    readings, fails = history(), failures()
    tier.load(readings, fails)
    assert tier.run().returncode == 0
    older = tier.read("manifest.json")
    late = late_readings()
    tier.load(late, [], summary=[(6, date(2026, 11, 26), 5, 0, 55.0, 0)], ddl=False)
    assert tier.run().returncode == 0  # 26 Nov merged into a new file, the old one deleted
    old_file = next(
        f for f in json.loads(older)["days"]["2026-11-26"]["files"] if f.startswith("readings/")
    )
    put(tier, "manifest.json", older)
    files = parquet_files(tier)

    result = tier.run()
    line = one_line(result)
    assert old_file in line and "missing" in line, line
    assert_refused_and_untouched(tier, result, files, tier.count("raw.plant_readings"))

    assert repair(tier).returncode == 0
    assert tier.run().returncode == 0
    assert_exactly_one_tier(tier, readings + late, fails)


def test_truncated_manifest_is_named_and_nothing_is_deleted(tier):
    readings, fails = history(), failures()
    tier.load(readings, fails)
    assert tier.run().returncode == 0
    data = tier.read("manifest.json")
    put(tier, "manifest.json", data[: len(data) // 2])
    files = parquet_files(tier)

    result = tier.run(now=NOW + DAY)
    line = one_line(result)
    assert "manifest.json" in line and "make archive-repair" in line, line
    where = str(tier.root) if tier.target == "local" else f"s3://{tier.bucket}/{tier.prefix}"
    assert where in line, line
    assert_refused_and_untouched(tier, result, files, tier.count("raw.plant_readings"))

    assert repair(tier).returncode == 0
    assert tier.run(now=NOW + DAY).returncode == 0
    assert_exactly_one_tier(tier, readings, fails)


# ---------------------------------------------------------------------------- a file deleted
def test_deleted_listed_file_is_reported_and_nothing_is_pruned(tier):
    readings, fails = history(), failures()
    tier.load(readings, fails)
    assert tier.run().returncode == 0
    gone = next(
        f for f in tier.manifest()["days"]["2026-11-25"]["files"] if f.startswith("readings/")
    )
    remove(tier, gone)
    files = parquet_files(tier)
    hot_before = tier.count("raw.plant_readings")

    result = tier.run(now=NOW + DAY)
    line = one_line(result)
    assert gone in line and "missing" in line and f"{PER_DAY + 1}" in line, line
    assert_refused_and_untouched(tier, result, files, hot_before)

    # The repair rebuilds from what exists and says loudly what the old manifest had more.
    fixed = repair(tier)
    assert fixed.returncode == 0, fixed.stderr
    assert gone in fixed.stderr and "LOST" in fixed.stderr
    assert lost(tier, readings) == PER_DAY + 1  # the deleted file's readings, no more
    again = tier.run(now=NOW + DAY)
    assert again.returncode == 0, again.stderr
    assert lost(tier, readings) == PER_DAY + 1
    hot, arch = tier.hot_keys(), tier.archived_keys()
    assert not set(hot) & set(arch) and len(arch) == len(set(arch))


def test_listed_file_of_another_size_is_reported(duck_local):
    tier = duck_local
    tier.load(history(), failures())
    assert tier.run().returncode == 0
    key = tier.manifest()["days"]["2026-11-26"]["files"][0]
    put(tier, key, tier.read(key) + b"junk")
    result = tier.run()
    line = one_line(result)
    assert key in line and "bytes" in line, line
    assert result.returncode == 1


def test_verify_option_reads_every_listed_file(duck_local):
    """Same size, other bytes: the cheap size check passes, ``--verify`` finds it."""
    tier = duck_local
    readings, fails = history(), failures()
    tier.load(readings, fails)
    assert tier.run().returncode == 0
    assert tier.run("--verify").returncode == 0
    key = next(
        f for f in tier.manifest()["days"]["2026-11-26"]["files"] if f.startswith("readings/")
    )
    data = bytearray(tier.read(key))
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    put(tier, key, bytes(data))
    assert tier.run().returncode == 0  # the size check cannot see it
    result = tier.run("--verify")
    line = one_line(result)
    assert key in line and result.returncode == 1, line


# ---------------------------------------------------------------------------- real leftovers
def test_file_published_but_not_listed_by_a_killed_run_is_removed(any_tier):
    """Killed between moving a file to its published name and the manifest switch: the file
    holds only rows still hot, so it is provably a leftover and goes; the rerun archives."""
    tier = any_tier
    readings, fails = history(), failures()
    tier.load(readings, fails)
    crashed = tier.run(crash_at="moved")
    assert crashed.returncode != 0 and "kill -9 at moved" in crashed.stderr
    assert any(f.startswith("readings/day=") for f in parquet_files(tier))
    assert tier.manifest()["days"] == {}
    rerun = tier.run()
    assert rerun.returncode == 0, rerun.stderr
    assert "leftover" in rerun.stderr
    assert_exactly_one_tier(tier, readings, fails)
    listed = {f for e in tier.manifest()["days"].values() for f in e["files"]}
    assert parquet_files(tier) == listed


def test_replaced_file_left_by_a_killed_merge_is_removed(duck_local):
    """Killed after a merge's manifest switch, before the day's old file went: every row of the
    old file is in the new listed one, so it is a leftover."""
    tier = duck_local
    readings, fails = history(), failures()
    tier.load(readings, fails)
    assert tier.run().returncode == 0
    late = late_readings()
    tier.load(late, [], summary=[(6, date(2026, 11, 26), 5, 0, 55.0, 0)], ddl=False)
    assert tier.run(crash_at="published").returncode != 0
    listed = {f for e in tier.manifest()["days"].values() for f in e["files"]}
    assert parquet_files(tier) - listed, "the old file should still be there"
    rerun = tier.run()
    assert rerun.returncode == 0, rerun.stderr
    assert_exactly_one_tier(tier, readings + late, fails)
    listed = {f for e in tier.manifest()["days"].values() for f in e["files"]}
    assert parquet_files(tier) == listed


# ---------------------------------------------------------------------------- make ops-check
def test_ops_check_notices_a_deleted_file(tier, monkeypatch):
    """`make ops-check` runs the same listing check, so a deleted file is noticed the same day."""
    from alerts.ops import check_archive_files
    from lnhm.settings import from_env

    for name, value in tier.env.items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    tier.load(history(), failures())
    assert tier.run().returncode == 0
    settings = from_env(tier.env)
    assert check_archive_files(settings) is None
    gone = tier.manifest()["days"]["2026-11-26"]["files"][0]
    remove(tier, gone)
    finding = check_archive_files(settings)
    assert finding is not None and finding.check == "archive_files"
    assert gone in finding.summary and "missing" in finding.summary


def test_manifest_deleted_after_a_kill_before_the_prune_needs_no_repair(duck_local):
    """Killed after the manifest switch, before the prune, then the manifest lost: the day's
    files hold only rows still hot, so they are leftovers and the run archives the day again."""
    tier = duck_local
    readings, fails = history(), failures()
    tier.load(readings, fails)
    assert tier.run(crash_at="published").returncode != 0
    assert parquet_files(tier)
    remove(tier, "manifest.json")
    rerun = tier.run()
    assert rerun.returncode == 0, rerun.stderr
    assert "leftover" in rerun.stderr
    assert sorted(tier.manifest()["days"]) == ["2026-11-25", "2026-11-26"]
    assert_exactly_one_tier(tier, readings, fails)


def test_repair_dry_run_writes_nothing(duck_local):
    tier = duck_local
    tier.load(history(), failures())
    assert tier.run().returncode == 0
    remove(tier, "manifest.json")
    result = repair(tier, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert f"would rebuild manifest.json with {2 * PER_DAY + 1} readings" in result.stderr
    assert tier.read("manifest.json") is None
    assert (
        json.loads(result.stdout.strip().splitlines()[-1])["counts"]["readings"]
        == 2 * (PER_DAY) + 1
    )
