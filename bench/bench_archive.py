"""Benchmark: archive one day of 10,000 plants (14.4 M readings), ours vs the original's way.

Side by side, in one run, on the same rows:
- ours: ``python -m archive`` (DuckDB -> zstd Parquet, read back and verified, published with the
  manifest, then the hot rows pruned in one transaction);
- the original project's way: pandas reads the rows and writes CSV (``DataFrame.to_csv``), then
  the file is uploaded (to the same target); no verification. The rows are read into pandas in
  chunks of 1 M rows because 14.4 M wide rows do not fit in memory at once (the original read
  everything in one ``read_sql``): this only helps the original;
- the size of both files per reading: zstd Parquet vs the CSV of the same rows and columns.

The hot store is a DuckDB file generated directly (no HTTP): every plant's response body comes
from the simulator's model (same keys, names, botanists, origins and images as the API), with
per-minute recording times, moisture and temperature varied in SQL, stored as ingest stores it
(typed columns, no ``payload`` copy where they rebuild the body); dbt's ``fct_readings`` and
``plant_daily_summary`` are derived from it. 2 % of polls are failed requests.

Usage: ``python bench/bench_archive.py`` (10,000 plants), ``--plants 500`` or
``LNHM_BENCH_PLANTS=500`` for a quick run, ``--s3`` to use a local moto S3 server as the target
(objects live in its memory: use it with small sizes).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 28, 0, 30, tzinfo=UTC)  # 26 Nov is older than 24 h, 27 Nov is not
CHUNK = 1_000_000


def templates(plants: int) -> list[tuple]:
    """One response body per plant from the simulator's model, with value placeholders."""
    from harness.simulator.model import PlantsSimulator, SimulatorConfig

    sim = PlantsSimulator(SimulatorConfig(plants=plants + 2, seed=42, sensor_fault_rate=0))
    at = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    out, plant_id = [], 0
    while len(out) < plants:
        plant_id += 1
        response = sim.respond(plant_id, at)
        if response.status != 200:
            continue  # 7 (not found) and 43 (on loan): failures, below
        body = json.loads(response.body)
        body.update(recording_taken="@RT@", soil_moisture="@SM@", temperature="@TE@")
        botanist = body.get("botanist") or {}
        out.append(
            (
                plant_id,
                json.dumps(body, separators=(",", ":")),
                body.get("last_watered"),
                body.get("name"),
                botanist.get("name"),
                botanist.get("email"),
                botanist.get("phone"),
                json.dumps(body.get("origin_location")),
                json.dumps(body["scientific_name"]) if "scientific_name" in body else None,
                json.dumps(body["images"]) if body.get("images") else None,
                # daily watering minute, from last_watered's clock time
                int(body["last_watered"][17:19]) * 60 + int(body["last_watered"][20:22]),
            )
        )
    return out


def build_hot_store(path: Path, plants: int) -> dict:
    """raw.plant_readings (+ failures) for one day and the marts dbt would derive from them."""
    con = duckdb.connect(str(path))
    con.execute("set timezone = 'UTC'")
    import pyarrow as pa

    rows = templates(plants)
    names = [
        "plant_id",
        "tpl",
        "last_watered",
        "name",
        "b_name",
        "b_email",
        "b_phone",
        "origin",
        "sci",
        "images",
        "water_min",
    ]
    con.register("tpl_arrow", pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)}))
    con.execute("create table tpl as select * from tpl_arrow")
    day = f"timestamp '{DAY.isoformat()} 00:00:00'"
    con.execute("create schema raw; create schema marts")
    # Hour by hour, poll by poll (minute, then plant): the order ingest appends rows in.
    readings_sql = f"""
        with grid as (
            select t.*, m.minute,
                {day} + to_minutes(m.minute) + to_seconds((t.plant_id * 7 + m.minute) % 5)
                    as ts,
                (hash(t.plant_id, m.minute) % 1000) / 1000.0 as u
            from tpl t cross join range({{first}}, {{last}}) m(minute)
        ),
        valued as (
            select *,
                round(100 - ((minute - water_min + 1440) % 1440) / 60.0
                    * (case when plant_id in (16, 47) then 5.14 else 3.5 end)
                    + (u - 0.5) * 5, 8) as soil,
                8.6 + (plant_id % 64) / 10.0 + (u - 0.5) * 0.8
                    + case when u > 0.97 then 12 * u else 0 end as temp,
                strftime(ts, '%Y-%m-%d %H:%M:%S') as rt
            from grid
        )
        select
            plant_id,
            rt as recording_taken,
            last_watered,
            name,
            soil as soil_moisture,
            temp as temperature,
            b_name as botanist__name,
            b_email as botanist__email,
            b_phone as botanist__phone,
            origin as origin_location,
            sci as scientific_name,
            images,
            -- the API's body equals the typed columns' canonical form: ingest keeps no copy
            null::varchar as payload,
            (ts + to_milliseconds(300 + (u * 700)::int))::timestamptz as fetched_at,
            strftime({day} + to_minutes(minute), '%Y%m%dT%H%M%SZ') || '-bench0' as run_id,
            epoch(ts)::bigint::varchar || '.' || plant_id as _dlt_load_id
        from valued
        order by minute, plant_id
    """
    con.execute("create table raw.plant_readings as " + readings_sql.format(first=0, last=0))
    for hour in range(24):
        con.execute(
            "insert into raw.plant_readings "
            + readings_sql.format(first=hour * 60, last=hour * 60 + 60)
        )
    con.execute(f"""
        create table raw.plant_fetch_failures as
        select
            t.plant_id,
            500::bigint as http_status,
            'sensor_fault' as error_kind,
            'plant sensor fault' as error_message,
            '{{"error":"plant sensor fault","plant_id":' || t.plant_id || '}}' as body_excerpt,
            1::bigint as attempts,
            ({day} + to_minutes(m.minute) + interval 2 second)::timestamptz as fetched_at,
            strftime({day} + to_minutes(m.minute), '%Y%m%dT%H%M%SZ') || '-bench0' as run_id,
            'load' as _dlt_load_id
        from tpl t cross join range(1440) m(minute)
        where hash(t.plant_id, m.minute, 'fault') % 50 = 0
    """)
    con.execute("""
        create table marts.fct_readings as
        select
            plant_id::varchar || '|' || recording_taken as reading_id,
            plant_id,
            strptime(recording_taken, '%Y-%m-%d %H:%M:%S') as recorded_at,
            soil_moisture as soil_moisture_pct,
            temperature as temperature_c,
            strptime(last_watered, '%a, %d %b %Y %H:%M:%S GMT') as last_watered_at,
            fetched_at::timestamp as fetched_at,
            run_id,
            soil_moisture < 0 or soil_moisture > 100 as is_moisture_out_of_range,
            temperature < -10 or temperature > 50 as is_temperature_implausible,
            false as is_duplicate, false as is_future, false as is_stale,
            false as has_missing_fields,
            soil_moisture < 0 or soil_moisture > 100 as is_flagged,
            recording_taken as recording_taken_original,
            'v1' as api_shape
        from raw.plant_readings
    """)
    con.execute("""
        create table marts.plant_daily_summary as
        select plant_id, cast(recorded_at as date) as day, count(*) as readings,
            count(*) filter (where is_flagged) as flagged_readings,
            avg(soil_moisture_pct) as avg_soil_moisture_pct, 1 as waterings
        from marts.fct_readings group by all
    """)
    counts = {
        "readings": con.execute("select count(*) from raw.plant_readings").fetchone()[0],
        "failures": con.execute("select count(*) from raw.plant_fetch_failures").fetchone()[0],
    }
    con.execute("drop table tpl")
    con.execute("checkpoint")
    con.close()
    return counts


ORIGINAL_SELECT = """
    select r.* exclude (_dlt_load_id), f.* exclude (plant_id, fetched_at, run_id)
    from raw.plant_readings r
    left join marts.fct_readings f
        on f.plant_id = r.plant_id and f.recording_taken_original = r.recording_taken
"""


def original_way(hot: Path, work: Path, upload) -> tuple[float, int]:
    """pandas to CSV, then upload (what the original project's archive did, minus the delete)."""
    started = time.perf_counter()
    con = duckdb.connect(str(hot), read_only=True)
    csv_path = work / "archived_2026_11_26.csv"
    reader = con.execute(ORIGINAL_SELECT).to_arrow_reader(CHUNK)
    with open(csv_path, "w", newline="") as handle:
        first = True
        for batch in reader:
            batch.to_pandas().to_csv(handle, header=first, index=False)
            first = False
    con.close()
    size = csv_path.stat().st_size
    upload(csv_path, "original/archived_2026_11_26.csv")
    elapsed = time.perf_counter() - started
    csv_path.unlink()  # a day of CSV is tens of GB: do not keep two copies around
    return elapsed, size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--plants", type=int, default=int(os.environ.get("LNHM_BENCH_PLANTS", "10000"))
    )
    parser.add_argument("--s3", action="store_true", help="target a local moto S3 server")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="lnhm-bench-archive-"))
    server = None
    try:
        hot = work / "hot.duckdb"
        t0 = time.perf_counter()
        counts = build_hot_store(hot, args.plants)
        n = counts["readings"]
        print(
            f"generated {args.plants:,} plants x 1440 minutes = {n:,} readings and "
            f"{counts['failures']:,} failed requests for {DAY} in "
            f"{time.perf_counter() - t0:.1f} s ({hot.stat().st_size / 1e9:.2f} GB DuckDB file)",
            flush=True,
        )

        env = {k: v for k, v in os.environ.items() if not k.startswith(("LNHM_", "AWS_"))}
        env.update(LNHM_WAREHOUSE="duckdb", LNHM_DUCKDB_PATH=str(hot))
        if args.s3:
            from tests.services import start_s3

            server = start_s3()
            bucket = server.make_bucket("lnhm-bench")
            env.update(server.env, LNHM_ARCHIVE_URL=f"s3://{bucket}/archive")
            client = server.client()

            def upload(path: Path, key: str) -> None:
                client.upload_file(str(path), bucket, key)

            def fetch(key: str, dest: Path) -> None:
                client.download_file(bucket, f"archive/{key}", str(dest))
        else:
            archive = work / "archive"
            env["LNHM_ARCHIVE_URL"] = str(archive)

            def upload(path: Path, key: str) -> None:
                target = work / "uploaded" / key
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
                target.unlink()  # measured; free the disk

            def fetch(key: str, dest: Path) -> None:
                shutil.copyfile(archive / key, dest)

        # The original's way first (it reads the same rows, read only, before ours prunes them).
        orig_s, csv_bytes_pandas = original_way(hot, work, upload)
        print(f"original (pandas to_csv + upload): {orig_s:.1f} s", flush=True)

        t0 = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "archive", "--now", NOW.isoformat()],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        ours_s = time.perf_counter() - t0
        sys.stderr.write(result.stderr)
        if result.returncode != 0:
            print(f"archive failed: {result.stderr.strip().splitlines()[-1]}")
            return 1
        record = json.loads(result.stdout.strip().splitlines()[-1])
        assert record["counts"]["readings"] == n, record
        print(f"ours (python -m archive): {ours_s:.1f} s", flush=True)

        entry = json.loads(
            (work / "archive" / "manifest.json").read_text()
            if not args.s3
            else client.get_object(Bucket=bucket, Key="archive/manifest.json")["Body"].read()
        )["days"][DAY.isoformat()]
        parquet_key = next(f for f in entry["files"] if f.startswith("readings/"))
        local_parquet = work / "readings.parquet"
        fetch(parquet_key, local_parquet)
        parquet_bytes = entry["readings_bytes"]
        check = duckdb.execute(f"select count(*) from read_parquet('{local_parquet}')").fetchone()
        assert check[0] == n == entry["readings"]

        print()
        print(
            f"== archive one day: {args.plants:,} plants, {n:,} readings "
            f"({'moto S3' if args.s3 else 'local folder'} target)"
        )
        print(f"{'':34}{'ours':>14}{'original':>14}{'ratio':>10}")
        print(f"{'wall time (s)':34}{ours_s:>14.1f}{orig_s:>14.1f}{orig_s / ours_s:>9.1f}x")
        print(
            f"{'readings/s':34}{n / ours_s:>14,.0f}{n / orig_s:>14,.0f}"
            f"{(n / ours_s) / (n / orig_s):>9.1f}x"
        )
        print(
            f"{'bytes per reading (Parquet | CSV)':34}{parquet_bytes / n:>14.1f}"
            f"{csv_bytes_pandas / n:>14.1f}{csv_bytes_pandas / parquet_bytes:>9.1f}x"
        )
        print(
            f"{'bytes for the day':34}{parquet_bytes / 1e6:>12.1f}MB"
            f"{csv_bytes_pandas / 1e6:>12.1f}MB"
        )
        print(f"{'verified before delete':34}{'yes':>14}{'no':>14}")
        print(
            "ratio = original / ours (higher is better for ours). Ours includes read-back "
            "verification, publishing and pruning the hot store; the original's time does not "
            "include its DELETE."
        )
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
