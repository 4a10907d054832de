"""Synthetic warehouse data in the contract's layout, for the reports' tests and benchmark.

Writes a hot store (a DuckDB file with the `marts` tables the reports read) and an archive
folder (`readings/day=YYYY-MM-DD/*.parquet`, `fetch_failures/day=...`, `manifest.json`) the way
the archive job lays them out, so the reports can be tested and timed without running the
simulator, ingest, dbt and the archive first. Values move like the real sensors: moisture
falls ~3.5 points an hour from ~100 after the daily watering (plants 16 and 47 faster, below
zero), temperature sits near a per-plant baseline with rare spikes.

Fixed story (when the plant exists): plant 5 stops reporting 3 hours before the end
(missing), plant 7 is not found, plant 9's sensor faults for the last 40 minutes, plant 43 is
on loan.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

NAMES = (
    "Epipremnum Aureum",
    "Venus flytrap",
    "Corpse flower",
    "Rafflesia arnoldii",
    "Black bat flower",
    "Pitcher plant",
    "Wollemi pine",
    "Bird of paradise",
    "Cactus",
    "Dragon tree",
    "Asclepias Curassavica",
    "Brugmansia X Candida",
    "Canna 'Striata'",
    "Colocasia Esculenta",
    "Cuphea 'David Verity'",
    "Euphorbia Cotinifolia",
)
BOTANISTS = ("Carl Linnaeus", "Gertrude Jekyll", "Eliza Andrews", "Joseph Hooker")
CITIES = (
    ("Resplendor", "BR", "Brazil", "South America", -19.32556, -41.25528),
    ("South Whittier", "US", "United States", "North America", 33.95015, -118.03917),
    ("Efon-Alaaye", "NG", "Nigeria", "Africa", 7.65649, 4.92235),
    ("Ueno", "JP", "Japan", "Asia", 36.0, 139.0),
    ("Hlukhiv", "UA", "Ukraine", "Europe", 51.67822, 33.9162),
)
MISSING, NOT_FOUND, FAULTING, ON_LOAN = 5, 7, 9, 43


def _run(con, sql: str, params: dict | None = None):
    """Execute ``sql`` with the named parameters it uses (DuckDB refuses extra ones)."""
    used = {k: v for k, v in (params or {}).items() if f"${k}" in sql}
    return con.execute(sql, used) if used else con.execute(sql)


def _label(day: date) -> str:
    return day.strftime("%a %d %b %Y")


def write_demo(
    duckdb_path: Path,
    archive_dir: Path,
    plants: int = 50,
    archive_days: int = 3,
    end: datetime | None = None,
    names: dict[int, str] | None = None,
    summaries: bool = True,
    progress=None,
) -> dict:
    """Write the hot store and archive; return facts the caller may assert on.

    ``end``: time of the newest reading (default: now, to the minute). The hot store holds
    every reading from the start of the UTC day 24 hours before ``end``; the ``archive_days``
    whole days before that are archived. ``summaries``: fill the long-lived daily marts for
    every day but the oldest (so both ways of getting a day, mart or archive, are exercised).
    """
    say = progress or (lambda message: None)
    end = (end or datetime.now(UTC)).replace(tzinfo=None, second=0, microsecond=0)
    hot_from = datetime.combine((end - timedelta(hours=24)).date(), datetime.min.time())
    start = hot_from - timedelta(days=archive_days)
    duckdb_path = Path(duckdb_path)
    archive_dir = Path(archive_dir)
    duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    archive_dir.mkdir(parents=True, exist_ok=True)
    if duckdb_path.exists():
        duckdb_path.unlink()

    con = duckdb.connect(str(duckdb_path))
    con.execute("set timezone = 'UTC'")
    # a year of 50 plants is ~26 M rows: stay well inside memory (other jobs share the machine)
    con.execute("set memory_limit = '3GB'")
    con.execute("set preserve_insertion_order = false")
    con.execute(f"set temp_directory = '{duckdb_path.parent / '.demo-tmp'}'")
    params = {"start": start, "end": end, "hot_from": hot_from}
    con.execute("create schema marts")
    con.execute("create temp table plant_names (plant_id bigint, plant_name varchar)")
    names = names or {}
    con.executemany(
        "insert into plant_names values (?, ?)",
        [
            (i, names.get(i, NAMES[i % len(NAMES)] + ("" if i < len(NAMES) else f" {i}")))
            for i in range(1, plants + 1)
        ],
    )
    botanists = max(3, min(len(BOTANISTS), plants // 10)) if plants <= 50 else plants // 20
    con.execute(
        "create temp table plant_ids as select i as plant_id, "
        f"1 + (i % {botanists}) as botanist_id from range(1, {plants + 1}) t(i) "
        f"where i not in ({NOT_FOUND}, {ON_LOAN})"
    )
    say(f"demo: generating {plants} plants from {start:%Y-%m-%d} to {end:%Y-%m-%d %H:%M}")
    _run(
        con,
        f"""
        create temp view gen as
        with times as (
            select unnest(
                generate_series(timestamp '{start}', timestamp '{end}', interval 1 minute)
            ) as recorded_at
        ),
        base as (
            select
                p.plant_id,
                t.recorded_at,
                date_trunc('day', t.recorded_at) + interval 13 hours
                    + to_minutes((p.plant_id * 37) % 120) as watering_today,
                hash(p.plant_id, t.recorded_at) as h
            from plant_ids as p
            cross join times as t
            where not (p.plant_id = {MISSING}
                       and t.recorded_at > timestamp '{end}' - interval 3 hours)
              and not (p.plant_id = {FAULTING}
                       and t.recorded_at > timestamp '{end}' - interval 40 minutes)
        ),
        watered as (
            select *,
                case when recorded_at >= watering_today then watering_today
                     else watering_today - interval 1 day end as last_watered_at
            from base
        )
        select
            plant_id,
            recorded_at,
            last_watered_at,
            round(100 - (case when plant_id in (16, 47) then 5.2 else 3.5 end)
                * date_diff('second', last_watered_at, recorded_at) / 3600.0
                + ((h % 1000) / 1000.0 * 5 - 2.5), 2) as soil_moisture_pct,
            round(8.6 + (plant_id % 7) * 0.9
                + 1.5 * sin(2 * pi() * (hour(recorded_at) + minute(recorded_at) / 60.0) / 24)
                + ((h // 1000) % 100) / 100.0
                + case when h % 40 = 0 then 6 + (h % 7) else 0 end
                + case when h % 30011 = 0 then 80 else 0 end, 2) as temperature_c,
            recorded_at + interval 2 seconds as fetched_at,
            strftime(recorded_at, '%Y%m%dT%H%M%SZ') || '-demo00' as run_id
        from watered
        """,
    )
    _run(
        con,
        """
        create temp table flagged as
        select
            *,
            plant_id || '|' || strftime(recorded_at, '%Y-%m-%d %H:%M:%S') as reading_id,
            soil_moisture_pct not between 0 and 100 as is_moisture_out_of_range,
            temperature_c not between -10 and 60 as is_temperature_implausible,
            false as is_duplicate,
            false as is_future,
            false as is_stale,
            false as has_missing_fields,
            soil_moisture_pct not between 0 and 100
                or temperature_c not between -10 and 60 as is_flagged
        from gen
        """,
    )
    _run(
        con,
        f"""
        create temp table failures as
        with runs as (
            select unnest(generate_series($start, $end, interval 1 minute)) as fetched_minute
        ),
        ids as (select i as plant_id from range(1, {plants + 1}) t(i))
        select
            ids.plant_id,
            case when ids.plant_id in ({NOT_FOUND}, {ON_LOAN}) then 404 else 500 end
                as http_status,
            case
                when ids.plant_id = {NOT_FOUND} then 'not_found'
                when ids.plant_id = {ON_LOAN} then 'on_loan'
                else 'sensor_fault'
            end as error_kind,
            case
                when ids.plant_id = {NOT_FOUND} then 'plant not found'
                when ids.plant_id = {ON_LOAN} then 'plant on loan to another museum'
                else 'plant sensor fault'
            end as error_message,
            null::varchar as body_excerpt,
            1::bigint as attempts,
            cast(runs.fetched_minute + interval 2 seconds as timestamptz) as fetched_at,
            strftime(runs.fetched_minute, '%Y%m%dT%H%M%SZ') || '-demo00' as run_id
        from runs
        cross join ids
        where ids.plant_id in ({NOT_FOUND}, {ON_LOAN})
           or (ids.plant_id = {FAULTING} and runs.fetched_minute > $end - interval 40 minutes)
           or hash(ids.plant_id, runs.fetched_minute, 'fault') % 50 = 0
        """,
        params,
    )
    say("demo: writing the archive")
    _write_archive(con, archive_dir, hot_from)
    say("demo: writing the hot store")
    _write_hot(con, hot_from, end, summaries, start)
    facts = _run(
        con, "select count(*) from flagged where recorded_at >= $hot_from", params
    ).fetchone()
    con.close()
    return {
        "end": end,
        "hot_from": hot_from,
        "start": start,
        "hot_readings": facts[0],
        "archive_days": archive_days,
    }


def _write_archive(con, archive_dir: Path, hot_from: datetime) -> None:
    _run(
        con,
        f"""
        copy (
            select
                f.plant_id,
                strftime(f.recorded_at, '%Y-%m-%d %H:%M:%S') as recording_taken,
                strftime(f.last_watered_at, '%a, %d %b %Y %H:%M:%S GMT') as last_watered,
                n.plant_name as name,
                f.soil_moisture_pct as soil_moisture,
                f.temperature_c as temperature,
                'Botanist ' || p.botanist_id as botanist__name,
                'botanist' || p.botanist_id || '@lnhm.example' as botanist__email,
                '001-481-273-3691' as botanist__phone,
                null::varchar as origin_location,
                null::varchar as scientific_name,
                null::varchar as images,
                null::varchar as payload,
                cast(f.fetched_at as timestamptz) as fetched_at,
                f.run_id,
                f.reading_id,
                f.recorded_at,
                f.soil_moisture_pct,
                f.temperature_c,
                f.last_watered_at,
                f.is_moisture_out_of_range,
                f.is_temperature_implausible,
                f.is_duplicate,
                f.is_future,
                f.is_stale,
                f.has_missing_fields,
                f.is_flagged,
                cast(f.recorded_at as date) as day
            from flagged as f
            join plant_names as n using (plant_id)
            join plant_ids as p using (plant_id)
            where f.recorded_at < '{hot_from}'
            order by f.recorded_at, f.plant_id
        ) to '{archive_dir / "readings"}'
        (format parquet, compression zstd, partition_by (day), overwrite_or_ignore)
        """,
    )
    _run(
        con,
        f"""
        copy (
            select *, cast(cast(fetched_at as timestamp) as date) as day
            from failures where cast(fetched_at as timestamp) < '{hot_from}'
        ) to '{archive_dir / "fetch_failures"}'
        (format parquet, compression zstd, partition_by (day), overwrite_or_ignore)
        """,
    )
    counts = dict(
        (row[0], row[1:])
        for row in _run(
            con,
            f"""
            select cast(recorded_at as date), count(*) from flagged
            where recorded_at < '{hot_from}' group by 1
            """,
        ).fetchall()
    )
    failure_counts = dict(
        _run(
            con,
            f"""
            select cast(cast(fetched_at as timestamp) as date), count(*) from failures
            where cast(fetched_at as timestamp) < '{hot_from}' group by 1
            """,
        ).fetchall()
    )
    days = {}
    for day in sorted(counts):
        files = []
        sizes = {"readings": 0, "fetch_failures": 0}
        for kind in ("readings", "fetch_failures"):
            folder = archive_dir / kind / f"day={day.isoformat()}"
            for path in sorted(folder.glob("*.parquet")):
                files.append(str(path.relative_to(archive_dir)))
                sizes[kind] += path.stat().st_size
        days[day.isoformat()] = {
            "label": _label(day),
            "readings": counts[day][0],
            "readings_bytes": sizes["readings"],
            "readings_checksum": "0",
            "fetch_failures": failure_counts.get(day, 0),
            "fetch_failures_bytes": sizes["fetch_failures"],
            "files": files,
            "archived_at": (datetime.combine(day, datetime.min.time()) + timedelta(days=2))
            .replace(tzinfo=UTC)
            .isoformat(),
        }
    manifest = {"version": 1, "updated_at": datetime.now(UTC).isoformat(), "days": days}
    (archive_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def _write_hot(con, hot_from: datetime, end: datetime, summaries: bool, start: datetime) -> None:
    params = {"hot_from": hot_from, "end": end, "first_day": start.date()}
    _run(
        con,
        """
        create table marts.fct_readings as
        select
            reading_id, plant_id, recorded_at, soil_moisture_pct, temperature_c,
            last_watered_at, fetched_at, run_id, is_moisture_out_of_range,
            is_temperature_implausible, is_duplicate, is_future, is_stale,
            has_missing_fields, is_flagged
        from flagged where recorded_at >= $hot_from
        """,
        params,
    )
    cities = " union all ".join(
        f"select {i} as k, '{c}' as city, '{cc}' as cc, '{cn}' as cn, '{ct}' as ct, "
        f"{lat} as lat, {lon} as lon"
        for i, (c, cc, cn, ct, lat, lon) in enumerate(CITIES)
    )
    _run(
        con,
        f"""
        create table marts.dim_plants as
        with cities as ({cities})
        select
            n.plant_id,
            n.plant_name,
            n.plant_name || ',' as plant_name_original,
            case when n.plant_id % 4 = 0 then null
                 else split_part(n.plant_name, ' ', 1) || ' demoensis' end as scientific_name,
            c.city as origin_city,
            c.cc as origin_country_code,
            c.cn as origin_country_name,
            c.ct as origin_continent,
            c.lat as origin_latitude,
            c.lon as origin_longitude,
            'UTC' as origin_timezone,
            p.botanist_id,
            'Botanist ' || p.botanist_id as botanist_name,
            'botanist' || p.botanist_id || '@lnhm.example' as botanist_email,
            case when n.plant_id % 3 = 0 then
                'https://perenual.com/storage/species_image/' || n.plant_id || '/og.jpg'
            end as image_url,
            case when n.plant_id % 3 = 0 then 'CC BY-SA 3.0' end as image_license_name,
            cast($first_day as timestamp) as first_seen_at,
            cast($end as timestamp) as last_seen_at
        from plant_names as n
        join plant_ids as p using (plant_id)
        join cities as c on c.k = n.plant_id % 5
        """,
        params,
    )
    _run(
        con,
        """
        create table marts.dim_botanists as
        select
            botanist_id,
            'Botanist ' || botanist_id as botanist_name,
            'botanist' || botanist_id || '@lnhm.example' as botanist_email,
            true as is_email_valid,
            '0014812733691' as phone_digits,
            null::varchar as phone_extension,
            '001-481-273-3691' as phone_original,
            count(*) as plants_count
        from plant_ids group by botanist_id
        """,
    )
    _run(
        con,
        """
        create table marts.fct_waterings as
        select distinct
            plant_id || '|' || strftime(last_watered_at, '%Y-%m-%d %H:%M:%S') as watering_id,
            plant_id,
            last_watered_at as watered_at
        from flagged where recorded_at >= $hot_from
        """,
        params,
    )
    summary_from = "$first_day + 1" if summaries else "date '9999-01-01'"
    _run(
        con,
        f"""
        create table marts.plant_daily_summary as
        with valid as (
            select
                plant_id, cast(recorded_at as date) as day, is_flagged, fetched_at,
                case when not is_duplicate and not is_moisture_out_of_range
                    then soil_moisture_pct end as m,
                case when not is_duplicate and not is_temperature_implausible
                    then temperature_c end as t
            from flagged
        ),
        w as (
            select plant_id, cast(last_watered_at as date) as day,
                count(distinct last_watered_at) as waterings
            from flagged group by all
        )
        select
            v.plant_id, v.day, count(*) as readings,
            count(*) filter (where is_flagged) as flagged_readings,
            avg(m) as avg_soil_moisture_pct, min(m) as min_soil_moisture_pct,
            max(m) as max_soil_moisture_pct,
            avg(t) as avg_temperature_c, min(t) as min_temperature_c,
            max(t) as max_temperature_c,
            coalesce(any_value(w.waterings), 0) as waterings,
            count(m) as soil_moisture_pct_n, sum(m) as soil_moisture_pct_sum,
            sum(m * m) as soil_moisture_pct_sum_sq,
            count(t) as temperature_c_n, sum(t) as temperature_c_sum,
            sum(t * t) as temperature_c_sum_sq,
            max(fetched_at) as last_fetched_at
        from valid as v
        left join w on v.plant_id = w.plant_id and v.day = w.day
        where v.day >= {summary_from}
        group by v.plant_id, v.day
        """,
        params,
    )
    _run(
        con,
        """
        create table marts.plant_baselines as
        with w as (
            select
                plant_id, day,
                sum(temperature_c_n) over s as tn, sum(temperature_c_sum) over s as ts,
                sum(temperature_c_sum_sq) over s as tq,
                sum(soil_moisture_pct_n) over s as mn, sum(soil_moisture_pct_sum) over s as ms,
                sum(soil_moisture_pct_sum_sq) over s as mq
            from marts.plant_daily_summary
            window s as (partition by plant_id order by day
                         range between interval 6 days preceding and current row)
        )
        select
            plant_id, day,
            ts / tn as temperature_c_mean_7d,
            sqrt(greatest((tq - ts * ts / tn) / (tn - 1), 0)) as temperature_c_stddev_7d,
            ms / mn as soil_moisture_pct_mean_7d,
            sqrt(greatest((mq - ms * ms / mn) / (mn - 1), 0)) as soil_moisture_pct_stddev_7d
        from w
        """,
    )
    _run(
        con,
        f"""
        create table marts.anomalies as
        with low as (
            select plant_id, last_watered_at, min(recorded_at) as started_at,
                max(recorded_at) as last_at, min(soil_moisture_pct) as worst_value,
                count(*) as readings
            from flagged
            where recorded_at >= $hot_from and soil_moisture_pct < 15
            group by plant_id, last_watered_at
            having count(*) >= 5
        ),
        latest as (select plant_id, max(recorded_at) as latest_at from flagged group by 1)
        select
            'moisture_low|' || low.plant_id || '|' || low.started_at as anomaly_id,
            low.plant_id, 'moisture_low' as kind, low.started_at,
            case when low.last_at < latest.latest_at
                then low.last_at + interval 1 minute end as ended_at,
            low.last_at >= latest.latest_at as is_open,
            low.worst_value, low.readings
        from low join latest using (plant_id)
        union all
        select
            'no_reading|{MISSING}|' || latest_at, plant_id, 'no_reading',
            latest_at + interval 1 minute, null, true, null, 0
        from latest where plant_id = {MISSING}
        union all
        select
            'sensor_faults|{FAULTING}', {FAULTING}, 'sensor_faults',
            $end - interval 40 minutes, null, true, null, 40
        where exists (select 1 from plant_ids where plant_id = {FAULTING})
        """,
        params,
    )
    _run(
        con,
        f"""
        create table marts.plant_status as
        with latest as (
            select plant_id, arg_max(soil_moisture_pct, recorded_at) as soil_moisture_pct,
                arg_max(temperature_c, recorded_at) as temperature_c,
                max(recorded_at) as latest_recorded_at,
                max(last_watered_at) as last_watered_at
            from flagged group by plant_id
        ),
        trend as (
            select plant_id, regr_slope(soil_moisture_pct,
                epoch(recorded_at) / 3600.0) as moisture_trend_pct_per_hour
            from flagged where recorded_at > $end - interval 1 hour group by plant_id
        ),
        open as (select plant_id, count(*) as n from marts.anomalies where is_open group by 1),
        ids as (
            select plant_id from plant_ids
            union select {ON_LOAN} where {ON_LOAN} <= (select max(plant_id) from plant_names)
        )
        select
            ids.plant_id,
            d.plant_name, d.botanist_id, d.botanist_name, d.botanist_email,
            l.latest_recorded_at,
            date_diff('minute', l.latest_recorded_at, $end) as minutes_since_reading,
            l.soil_moisture_pct, l.temperature_c, l.last_watered_at,
            round(date_diff('second', l.last_watered_at, $end) / 3600.0, 2)
                as hours_since_watered,
            trend.moisture_trend_pct_per_hour,
            ids.plant_id = {MISSING} as is_missing,
            ids.plant_id = {ON_LOAN} as is_on_loan,
            ids.plant_id = {FAULTING} as is_sensor_faulting,
            coalesce(open.n, 0) as open_incidents,
            case
                when ids.plant_id = {ON_LOAN} then 'on_loan'
                when ids.plant_id = {FAULTING} then 'sensor_fault'
                when ids.plant_id = {MISSING} then 'missing'
                when l.soil_moisture_pct < 15 or l.temperature_c > 30 then 'critical'
                when l.soil_moisture_pct < 30 then 'warning'
                else 'ok'
            end as status,
            'reading' as latest_fetch_outcome,
            cast($end as timestamp) as latest_fetched_at,
            cast($end as timestamp) as as_of_at
        from ids
        left join latest as l using (plant_id)
        left join trend using (plant_id)
        left join open using (plant_id)
        left join marts.dim_plants as d using (plant_id)
        """,
        params,
    )
    _run(
        con,
        """
        create table marts.data_quality as
        with r as (
            select cast(fetched_at as date) as day, run_id, count(*) as readings_received,
                count(*) filter (where is_flagged) as readings_flagged,
                count(*) filter (where is_moisture_out_of_range) as flagged_moisture_out_of_range,
                count(*) filter (where is_temperature_implausible)
                    as flagged_temperature_implausible,
                0::bigint as flagged_duplicate, 0::bigint as flagged_future,
                0::bigint as flagged_stale, 0::bigint as flagged_missing_fields
            from flagged where recorded_at >= $hot_from group by all
        ),
        f as (
            select cast(cast(fetched_at as timestamp) as date) as day, run_id,
                count(*) as failed_requests,
                count(*) filter (where error_kind = 'not_found') as failed_not_found,
                count(*) filter (where error_kind = 'on_loan') as failed_on_loan,
                count(*) filter (where error_kind = 'sensor_fault') as failed_sensor_fault,
                0::bigint as failed_server_error, 0::bigint as failed_timeout,
                0::bigint as failed_connection_error, 0::bigint as failed_invalid_body
            from failures where cast(fetched_at as timestamp) >= $hot_from group by all
        )
        select
            coalesce(r.day, f.day) as day, coalesce(r.run_id, f.run_id) as run_id,
            coalesce(readings_received, 0) as readings_received,
            coalesce(readings_flagged, 0) as readings_flagged,
            coalesce(flagged_moisture_out_of_range, 0) as flagged_moisture_out_of_range,
            coalesce(flagged_temperature_implausible, 0) as flagged_temperature_implausible,
            coalesce(flagged_duplicate, 0) as flagged_duplicate,
            coalesce(flagged_future, 0) as flagged_future,
            coalesce(flagged_stale, 0) as flagged_stale,
            coalesce(flagged_missing_fields, 0) as flagged_missing_fields,
            coalesce(failed_requests, 0) as failed_requests,
            coalesce(failed_not_found, 0) as failed_not_found,
            coalesce(failed_on_loan, 0) as failed_on_loan,
            coalesce(failed_sensor_fault, 0) as failed_sensor_fault,
            coalesce(failed_server_error, 0) as failed_server_error,
            coalesce(failed_timeout, 0) as failed_timeout,
            coalesce(failed_connection_error, 0) as failed_connection_error,
            coalesce(failed_invalid_body, 0) as failed_invalid_body
        from r full outer join f on r.day = f.day and r.run_id = f.run_id
        """,
        params,
    )
