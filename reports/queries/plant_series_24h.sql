-- The last 24 hours per plant for the charts, in 5-minute buckets of valid values.
with

window_readings as (
    select readings.*
    from readings
    cross join report_clock as clock
    where readings.recorded_at > clock.as_of_at - interval 24 hours
        and readings.recorded_at <= clock.as_of_at
)

select
    plant_id,
    time_bucket(interval 5 minutes, recorded_at) as bucket_at,
    avg(soil_moisture_pct) filter (
        where not is_duplicate and not is_moisture_out_of_range
    ) as soil_moisture_pct,
    avg(temperature_c) filter (
        where not is_duplicate and not is_temperature_implausible
    ) as temperature_c
from window_readings
group by plant_id, bucket_at
order by plant_id, bucket_at
