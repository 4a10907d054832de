-- Which archived readings files the per-reading pages need. The long-lived marts
-- (plant_daily_summary, plant_baselines) already hold every day they have, so a year of
-- archive is not re-read every hour: only the archived days that can hold the last 48 hours
-- (the 24-hour charts, recent waterings) and days the summary does not have are read reading
-- by reading.

create or replace temp table archive_needed_files as
with

newest as (
    select
        coalesce(
            cast(max(hot_readings.recorded_at) as date),
            (select max(manifest_days.day) as newest_archived_day from manifest_days)
        ) as newest_day
    from hot_readings
),

summarised_days as (
    select distinct day from plant_daily_summary
)

select
    files.day,
    files.url
from manifest_files as files
cross join newest
where
    files.kind = 'readings'
    and (
        files.day >= newest.newest_day - 2
        or files.day not in (select summarised_days.day from summarised_days)
    )
order by files.url;
