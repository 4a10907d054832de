-- The archive's readings: only Parquet files manifest.json lists (the caller puts their URLs,
-- local paths or s3://, in variables). Archived rows carry the raw fields and the cleaned
-- fct_readings columns; a row the cleaning never saw falls back to its raw values, so no
-- archived reading is lost here. Fetch times become naive UTC through epoch microseconds (a
-- time zone cast per row is what makes a year of rows slow).

create or replace temp macro archive_rows(files) as table
    select
        plant_id,
        coalesce(
            recorded_at,
            try_strptime(recording_taken, '%Y-%m-%d %H:%M:%S'),
            try_cast(try_cast(recording_taken as timestamptz) as timestamp),
            try_strptime(recording_taken, '%a, %d %b %Y %H:%M:%S GMT')
        ) as recorded_at,
        coalesce(soil_moisture_pct, soil_moisture) as soil_moisture_pct,
        coalesce(temperature_c, temperature) as temperature_c,
        last_watered_at,
        make_timestamp(epoch_us(fetched_at)) as fetched_at,
        date '1970-01-01' + (epoch_us(fetched_at) // 86400000000)::integer as fetched_day,
        run_id,
        coalesce(is_moisture_out_of_range, false) as is_moisture_out_of_range,
        coalesce(is_temperature_implausible, false) as is_temperature_implausible,
        coalesce(is_duplicate, false) as is_duplicate,
        coalesce(is_future, false) as is_future,
        coalesce(is_stale, false) as is_stale,
        coalesce(has_missing_fields, recorded_at is null) as has_missing_fields,
        coalesce(is_flagged, recorded_at is null) as is_flagged,
        name as plant_name,
        botanist__name as botanist_name,
        botanist__email as botanist_email
    from read_parquet(files, union_by_name = true);

-- every archived reading (the data quality page counts them all)
create or replace temp view archive_readings_all as
select * from archive_rows(getvariable('archive_readings_files'));
