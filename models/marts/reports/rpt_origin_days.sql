{#- The origin pages' day-by-day comparison: one row per origin page, plant from that origin and
    recent UTC day (`origin_recent_days` up to the warehouse clock's day) the plant has readings
    on, with that day's figures from plant_daily_summary as they are. -#}
with

origin_plants as (

    select * from {{ ref('rpt_origin_plants') }}

),

summary as (

    select * from {{ ref('plant_daily_summary') }}

),

clock as (

    select cast(as_of_at as date) as clock_day from {{ ref('int_warehouse_clock') }}

),

final as (

    select
        origin_plants.origin_key,
        origin_plants.plant_id,
        summary.day,
        summary.readings,
        summary.avg_soil_moisture_pct,
        summary.min_soil_moisture_pct,
        summary.max_soil_moisture_pct,
        summary.avg_temperature_c,
        summary.min_temperature_c,
        summary.max_temperature_c,
        summary.waterings
    from origin_plants
    inner join summary on origin_plants.plant_id = summary.plant_id
    cross join clock
    where
        summary.day > {{ lnhm.add_days('clock.clock_day', '-' ~ var('origin_recent_days')) }}
        and summary.day <= clock.clock_day

)

select * from final
