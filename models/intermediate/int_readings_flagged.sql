{#- Every staged reading with the quality flags a reading carries on its own. Nothing is
    removed: bad values stay, flagged. The duplicate flag needs the other readings of the plant
    and is set in fct_readings (incrementally, against the rows already there). No window
    function here, so that incremental models filtering on fetched_at read only new raw rows. -#}
with

readings as (

    select * from {{ ref('stg_plants_api__readings') }}

),

flagged as (

    select
        readings.*,
        coalesce(
            readings.soil_moisture_pct < 0 or readings.soil_moisture_pct > 100, false
        ) as is_moisture_out_of_range,
        coalesce(
            readings.temperature_c < {{ var('temperature_plausible_min_c') }}
            or readings.temperature_c > {{ var('temperature_plausible_max_c') }},
            false
        ) as is_temperature_implausible,
        coalesce(
            readings.recorded_at
            > {{ lnhm.add_minutes('readings.fetched_at', var('future_tolerance_minutes')) }},
            false
        ) as is_future,
        coalesce(
            readings.recorded_at
            < {{ lnhm.subtract_minutes('readings.fetched_at', var('stale_after_minutes')) }},
            false
        ) as is_stale,
        (
            readings.recorded_at is null
            or readings.soil_moisture_pct is null
            or readings.temperature_c is null
            or readings.plant_name is null
            or readings.last_watered_at is null
        ) as has_missing_fields
    from readings

),

final as (

    select
        *,
        (
            is_moisture_out_of_range
            or is_temperature_implausible
            or is_future
            or is_stale
            or has_missing_fields
        ) as has_reading_issue
    from flagged

)

select * from final
