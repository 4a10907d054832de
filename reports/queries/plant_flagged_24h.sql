-- Flagged readings of the last 24 hours (marked on the charts), with the first reason.
select
    readings.plant_id,
    readings.recorded_at,
    readings.soil_moisture_pct,
    readings.temperature_c,
    case
        when readings.is_moisture_out_of_range then 'moisture out of range'
        when readings.is_temperature_implausible then 'implausible temperature'
        when readings.is_duplicate then 'duplicate'
        when readings.is_future then 'recorded in the future'
        when readings.is_stale then 'stale sensor'
        when readings.has_missing_fields then 'missing fields'
        else 'flagged'
    end as reason
from readings
cross join report_clock as clock
where readings.is_flagged
    and readings.recorded_at > clock.as_of_at - interval 24 hours
    and readings.recorded_at <= clock.as_of_at
order by readings.plant_id, readings.recorded_at
