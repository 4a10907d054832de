{#- Flagged readings of the 24 hours up to the warehouse clock (rpt_readings_24h), marked on the
    charts, with the first reason in words. -#}
with

final as (

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
    from {{ ref('rpt_readings_24h') }} as readings
    where readings.is_flagged

)

select * from final
