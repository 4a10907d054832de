-- One archived day's readings as they are in its Parquet files (the manifest's `files` of the
-- day, getvariable('day_files')), for the day's downloads and its minute pages: no figure is
-- computed, rows are only put in order and their times named as UTC instants. The session's
-- time zone is UTC (lnhm.duck.connect), so a naive archived time is read as the UTC it is.

create or replace temp table archive_day as
select
    plant_id,
    name as plant_name,
    reading_id,
    cast(recorded_at as timestamptz) as recorded_at_utc,
    soil_moisture_pct,
    temperature_c,
    cast(last_watered_at as timestamptz) as last_watered_at_utc,
    is_flagged,
    is_moisture_out_of_range,
    is_temperature_implausible,
    is_duplicate,
    is_future,
    is_stale,
    has_missing_fields,
    recording_taken,
    soil_moisture,
    temperature,
    last_watered,
    cast(fetched_at as timestamptz) as fetched_at_utc,
    run_id
from read_parquet(getvariable('day_files'), union_by_name = true, hive_partitioning = false)
order by plant_id, recorded_at_utc nulls last, recording_taken, fetched_at_utc;
