-- Per plant, the 24 hours up to the newest reading: counts and the spread of valid values
-- (the rules of plant_daily_summary: duplicates, out-of-range moisture and implausible
-- temperatures are left out of the statistics, and counted as flagged).
with

window_readings as (
    select readings.*
    from readings
    cross join report_clock as clock
    where readings.recorded_at > clock.as_of_at - interval 24 hours
        and readings.recorded_at <= clock.as_of_at
),

valid as (
    select
        plant_id,
        is_flagged,
        case
            when not is_duplicate and not is_moisture_out_of_range then soil_moisture_pct
        end as soil_moisture_pct,
        case
            when not is_duplicate and not is_temperature_implausible then temperature_c
        end as temperature_c
    from window_readings
)

select
    plant_id,
    count(*) as readings,
    count(*) filter (where is_flagged) as flagged_readings,
    min(soil_moisture_pct) as min_soil_moisture_pct,
    avg(soil_moisture_pct) as avg_soil_moisture_pct,
    max(soil_moisture_pct) as max_soil_moisture_pct,
    min(temperature_c) as min_temperature_c,
    avg(temperature_c) as avg_temperature_c,
    max(temperature_c) as max_temperature_c
from valid
group by plant_id
