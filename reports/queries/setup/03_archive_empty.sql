-- The archive views, empty: used as they are when the manifest lists no files of a kind
-- (no archive yet), replaced by 03_archive_readings, 03_archive_failures and
-- 05_archive_needed_view otherwise.

create or replace temp view archive_readings as
select
    null::bigint as plant_id,
    null::timestamp as recorded_at,
    null::double as soil_moisture_pct,
    null::double as temperature_c,
    null::timestamp as last_watered_at,
    null::timestamp as fetched_at,
    null::date as fetched_day,
    null::varchar as run_id,
    null::boolean as is_moisture_out_of_range,
    null::boolean as is_temperature_implausible,
    null::boolean as is_duplicate,
    null::boolean as is_future,
    null::boolean as is_stale,
    null::boolean as has_missing_fields,
    null::boolean as is_flagged,
    null::varchar as plant_name,
    null::varchar as botanist_name,
    null::varchar as botanist_email
where false;

create or replace temp view archive_readings_all as
select * from archive_readings;

create or replace temp view archive_failures as
select
    null::bigint as plant_id,
    null::varchar as error_kind,
    null::varchar as run_id,
    null::timestamp as fetched_at,
    null::date as fetched_day
where false;
