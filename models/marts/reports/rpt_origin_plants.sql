{#- The origin pages: one row per origin page (a country, or a continent) and plant from that
    origin, with the plant's status and values now (rpt_plants) and its figures over the recent
    days (`origin_recent_days` UTC days up to the warehouse clock's day, from the long-lived
    plant_daily_summary, so archived days count). A plant is on its country's page and on its
    continent's page; a plant whose country is not resolved is on the "unknown" pages. -#}
with

plants as (

    select * from {{ ref('rpt_plants') }}

),

summary as (

    select * from {{ ref('plant_daily_summary') }}

),

waterings as (

    select * from {{ ref('fct_waterings') }}

),

clock as (

    select cast(as_of_at as date) as clock_day from {{ ref('int_warehouse_clock') }}

),

recent as (

    select
        summary.plant_id,
        cast(count(*) as bigint) as recent_days,
        cast(sum(summary.readings) as bigint) as recent_readings,
        cast(sum(summary.flagged_readings) as bigint) as recent_flagged_readings,
        sum(summary.soil_moisture_pct_sum)
        / nullif(sum(summary.soil_moisture_pct_n), 0) as recent_avg_soil_moisture_pct,
        min(summary.min_soil_moisture_pct) as recent_min_soil_moisture_pct,
        max(summary.max_soil_moisture_pct) as recent_max_soil_moisture_pct,
        sum(summary.temperature_c_sum)
        / nullif(sum(summary.temperature_c_n), 0) as recent_avg_temperature_c,
        min(summary.min_temperature_c) as recent_min_temperature_c,
        max(summary.max_temperature_c) as recent_max_temperature_c
    from summary
    cross join clock
    where
        summary.day > {{ lnhm.add_days('clock.clock_day', '-' ~ var('origin_recent_days')) }}
        and summary.day <= clock.clock_day
    group by summary.plant_id

),

-- waterings by their own day, also on a day the plant has no reading (the first day of a
-- history, when the first reading reports the watering before it)
recent_waterings as (

    select
        waterings.plant_id,
        cast(count(*) as bigint) as recent_waterings
    from waterings
    cross join clock
    where
        cast(waterings.watered_at as date)
        > {{ lnhm.add_days('clock.clock_day', '-' ~ var('origin_recent_days')) }}
        and cast(waterings.watered_at as date) <= clock.clock_day
    group by waterings.plant_id

),

origins as (

    select
        plant_id,
        'country' as origin_kind,
        'country-' || coalesce(lower(origin_country_code), 'unknown') as origin_key,
        coalesce(origin_country_name, 'Unknown country') as origin_name
    from plants
    union all
    select
        plant_id,
        'continent' as origin_kind,
        'continent-' || coalesce(lower(replace(origin_continent, ' ', '-')), 'unknown') as origin_key,
        coalesce(origin_continent, 'Unknown continent') as origin_name
    from plants

),

final as (

    select
        origins.origin_key,
        origins.origin_kind,
        origins.origin_name,
        plants.plant_id,
        plants.plant_name,
        plants.scientific_name,
        plants.origin_city,
        plants.origin_country_code,
        plants.origin_country_name,
        plants.origin_continent,
        'country-' || coalesce(lower(plants.origin_country_code), 'unknown') as country_key,
        'continent-' || coalesce(lower(replace(plants.origin_continent, ' ', '-')), 'unknown')
            as continent_key,
        plants.status,
        plants.urgency,
        plants.soil_moisture_pct,
        plants.temperature_c,
        plants.hours_since_watered,
        plants.dry_expected_at,
        plants.latest_recorded_at,
        plants.open_incidents,
        coalesce(recent.recent_days, 0) as recent_days,
        coalesce(recent.recent_readings, 0) as recent_readings,
        coalesce(recent.recent_flagged_readings, 0) as recent_flagged_readings,
        recent.recent_avg_soil_moisture_pct,
        recent.recent_min_soil_moisture_pct,
        recent.recent_max_soil_moisture_pct,
        recent.recent_avg_temperature_c,
        recent.recent_min_temperature_c,
        recent.recent_max_temperature_c,
        coalesce(recent_waterings.recent_waterings, 0) as recent_waterings
    from origins
    inner join plants on origins.plant_id = plants.plant_id
    left join recent on origins.plant_id = recent.plant_id
    left join recent_waterings on origins.plant_id = recent_waterings.plant_id

)

select * from final
