-- Recent and historical data as one: the hot store's cleaned readings plus archived readings.
-- Every reading is in exactly one tier once an archive run ends; while one runs (written,
-- not yet pruned) a reading can be in both, so archived rows whose key (plant, recording time)
-- is still hot are left out: nothing is counted twice.

create or replace temp view readings as
select
    plant_id,
    recorded_at,
    soil_moisture_pct,
    temperature_c,
    last_watered_at,
    fetched_at,
    run_id,
    is_moisture_out_of_range,
    is_temperature_implausible,
    is_duplicate,
    is_future,
    is_stale,
    has_missing_fields,
    is_flagged,
    'hot' as tier
from hot_readings

union all

select
    archived.plant_id,
    archived.recorded_at,
    archived.soil_moisture_pct,
    archived.temperature_c,
    archived.last_watered_at,
    archived.fetched_at,
    archived.run_id,
    archived.is_moisture_out_of_range,
    archived.is_temperature_implausible,
    archived.is_duplicate,
    archived.is_future,
    archived.is_stale,
    archived.has_missing_fields,
    archived.is_flagged,
    'archive' as tier
from archive_readings as archived
anti join hot_readings as hot
    on archived.plant_id = hot.plant_id and archived.recorded_at = hot.recorded_at;

-- "Now" for every page: the newest reading or fetch the warehouse holds (so an old snapshot
-- still reads sensibly), and the wall clock the site was generated at.
create or replace temp table report_clock as
select
    coalesce(
        (select max(recorded_at) as newest from hot_readings),
        (select max(recorded_at) as newest from archive_readings)
    ) as as_of_at,
    cast(now() as timestamp) as generated_at;

-- Every plant the warehouse knows: dimensions, status, and plants seen only in the archive.
create or replace temp table report_plants as
with

archived_plants as (
    select
        plant_id,
        arg_max(plant_name, recorded_at) as plant_name,
        arg_max(botanist_name, recorded_at) as botanist_name,
        arg_max(botanist_email, recorded_at) as botanist_email
    from archive_readings
    where plant_id is not null
    group by plant_id
),

ids as (
    select plant_id from dim_plants
    union
    select plant_id from plant_status
    union
    select plant_id from archived_plants
    union
    select distinct plant_id from plant_daily_summary
)

select
    ids.plant_id,
    coalesce(dim_plants.plant_name, plant_status.plant_name, archived_plants.plant_name)
        as plant_name,
    dim_plants.scientific_name,
    coalesce(dim_plants.botanist_id, plant_status.botanist_id) as botanist_id,
    coalesce(dim_plants.botanist_name, plant_status.botanist_name, archived_plants.botanist_name)
        as botanist_name,
    coalesce(
        dim_plants.botanist_email, plant_status.botanist_email, archived_plants.botanist_email
    ) as botanist_email
from ids
left join dim_plants on ids.plant_id = dim_plants.plant_id
left join plant_status on ids.plant_id = plant_status.plant_id
left join archived_plants on ids.plant_id = archived_plants.plant_id;

-- Watering events: the hot mart plus changes of last_watered in the archived days read here
-- (recent days and days the summary lacks; the summary counts waterings per day itself).
create or replace temp table waterings as
select
    plant_id,
    watered_at
from hot_waterings
union
select distinct
    plant_id,
    last_watered_at as watered_at
from archive_readings
where last_watered_at is not null;

-- Per plant and day over every tier: the long-lived plant_daily_summary where it has the day,
-- else computed from the readings (hot, and archived days the summary lacks) with its rules (statistics leave out duplicates,
-- out-of-range moisture and implausible temperatures).
create or replace temp table daily as
with

valid as (
    select
        plant_id,
        cast(recorded_at as date) as day,
        is_flagged,
        case
            when not is_duplicate and not is_moisture_out_of_range then soil_moisture_pct
        end as soil_moisture_pct,
        case
            when not is_duplicate and not is_temperature_implausible then temperature_c
        end as temperature_c
    from readings
    where recorded_at is not null
),

computed as (
    select
        plant_id,
        day,
        count(*) as readings,
        count(*) filter (where is_flagged) as flagged_readings,
        avg(soil_moisture_pct) as avg_soil_moisture_pct,
        min(soil_moisture_pct) as min_soil_moisture_pct,
        max(soil_moisture_pct) as max_soil_moisture_pct,
        avg(temperature_c) as avg_temperature_c,
        min(temperature_c) as min_temperature_c,
        max(temperature_c) as max_temperature_c,
        count(soil_moisture_pct) as soil_moisture_pct_n,
        sum(soil_moisture_pct) as soil_moisture_pct_sum,
        sum(soil_moisture_pct * soil_moisture_pct) as soil_moisture_pct_sum_sq,
        count(temperature_c) as temperature_c_n,
        sum(temperature_c) as temperature_c_sum,
        sum(temperature_c * temperature_c) as temperature_c_sum_sq
    from valid
    group by plant_id, day
),

daily_waterings as (
    select
        plant_id,
        cast(watered_at as date) as day,
        count(*) as waterings
    from waterings
    group by plant_id, cast(watered_at as date)
),

summarised as (
    select
        plant_id,
        day,
        readings,
        flagged_readings,
        avg_soil_moisture_pct,
        min_soil_moisture_pct,
        max_soil_moisture_pct,
        avg_temperature_c,
        min_temperature_c,
        max_temperature_c,
        soil_moisture_pct_n,
        soil_moisture_pct_sum,
        soil_moisture_pct_sum_sq,
        temperature_c_n,
        temperature_c_sum,
        temperature_c_sum_sq,
        waterings,
        'summary' as source
    from plant_daily_summary
)

select * from summarised
union all
select
    computed.*,
    coalesce(daily_waterings.waterings, 0) as waterings,
    'readings' as source
from computed
left join daily_waterings
    on computed.plant_id = daily_waterings.plant_id and computed.day = daily_waterings.day
anti join summarised
    on computed.plant_id = summarised.plant_id and computed.day = summarised.day;

-- The plant's baseline per day: plant_baselines where it has the day, else the same rule
-- (mean and sample standard deviation over the 7 days ending that day) from the daily sums.
create or replace temp table baselines as
with

windowed as (
    select
        plant_id,
        day,
        sum(temperature_c_n) over seven as t_n,
        sum(temperature_c_sum) over seven as t_sum,
        sum(temperature_c_sum_sq) over seven as t_sum_sq,
        sum(soil_moisture_pct_n) over seven as m_n,
        sum(soil_moisture_pct_sum) over seven as m_sum,
        sum(soil_moisture_pct_sum_sq) over seven as m_sum_sq
    from daily
    window seven as (
        partition by plant_id order by day
        range between interval 6 days preceding and current row
    )
),

computed as (
    select
        plant_id,
        day,
        case when t_n > 0 then t_sum / t_n end as temperature_c_mean_7d,
        case
            when t_n > 1 then sqrt(greatest((t_sum_sq - t_sum * t_sum / t_n) / (t_n - 1), 0))
        end as temperature_c_stddev_7d,
        case when m_n > 0 then m_sum / m_n end as soil_moisture_pct_mean_7d,
        case
            when m_n > 1 then sqrt(greatest((m_sum_sq - m_sum * m_sum / m_n) / (m_n - 1), 0))
        end as soil_moisture_pct_stddev_7d
    from windowed
),

stored as (
    select
        plant_id,
        day,
        temperature_c_mean_7d,
        temperature_c_stddev_7d,
        soil_moisture_pct_mean_7d,
        soil_moisture_pct_stddev_7d
    from plant_baselines
)

select * from stored
union all
select computed.*
from computed
anti join stored on computed.plant_id = stored.plant_id and computed.day = stored.day;
