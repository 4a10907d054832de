-- How fresh the data is: newest reading and fetch, what each tier holds.
with

hot as (
    select
        min(recorded_at) as first_recorded_at,
        max(recorded_at) as last_recorded_at,
        max(fetched_at) as last_fetched_at,
        count(*) as readings
    from hot_readings
),

archived as (
    select
        count(*) as days,
        min(day) as first_day,
        max(day) as last_day,
        coalesce(sum(readings), 0) as readings,
        coalesce(sum(readings_bytes + fetch_failures_bytes), 0) as bytes,
        max(archived_at) as last_archived_at
    from manifest_days
),

plants as (
    select
        count(*) as plants,
        count(*) filter (where status.status in ('ok', 'warning', 'critical')) as reporting
    from report_plants
    left join plant_status as status on report_plants.plant_id = status.plant_id
)

select
    clock.as_of_at,
    clock.generated_at,
    date_diff('minute', clock.as_of_at, clock.generated_at) as minutes_behind,
    hot.first_recorded_at as hot_first_recorded_at,
    hot.last_recorded_at as hot_last_recorded_at,
    hot.last_fetched_at,
    hot.readings as hot_readings,
    archived.days as archived_days,
    archived.first_day as archive_first_day,
    archived.last_day as archive_last_day,
    archived.readings as archived_readings,
    archived.bytes as archived_bytes,
    archived.last_archived_at,
    plants.plants,
    plants.reporting
from report_clock as clock
cross join hot
cross join archived
cross join plants
