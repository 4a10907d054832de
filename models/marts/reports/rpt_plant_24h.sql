{#- Per plant, the 24 hours up to the warehouse clock (rpt_readings_24h): readings, flagged
    readings and the spread of the values that count in statistics (fct_readings'
    soil_moisture_ / temperature_counts_in_statistics, the one rule). Per measure (the page's
    two rows): readings flagged for a reason about that measure (its own range check) or about
    the whole reading (duplicate, recorded in the future, stale, missing fields), and the range
    as reported (every recorded non-duplicate value, flagged ones included: the values the
    plant page's "Now" is chosen from, plant_status). -#}
with

readings as (

    select
        plant_id,
        is_flagged,
        counts_in_statistics,
        is_moisture_out_of_range,
        is_temperature_implausible,
        (is_duplicate or is_future or is_stale or has_missing_fields) as has_reading_wide_flag,
        soil_moisture_counts_in_statistics,
        temperature_counts_in_statistics,
        soil_moisture_pct,
        temperature_c
    from {{ ref('rpt_readings_24h') }}

),

final as (

    select
        plant_id,
        count(*) as readings,
        cast(sum(case when is_flagged then 1 else 0 end) as bigint) as flagged_readings,
        cast(
            sum(case when is_moisture_out_of_range or has_reading_wide_flag then 1 else 0 end)
            as bigint
        ) as soil_moisture_flagged_readings,
        cast(
            sum(case when is_temperature_implausible or has_reading_wide_flag then 1 else 0 end)
            as bigint
        ) as temperature_flagged_readings,
        min(case when soil_moisture_counts_in_statistics then soil_moisture_pct end)
            as min_soil_moisture_pct,
        avg(case when soil_moisture_counts_in_statistics then soil_moisture_pct end)
            as avg_soil_moisture_pct,
        max(case when soil_moisture_counts_in_statistics then soil_moisture_pct end)
            as max_soil_moisture_pct,
        min(case when temperature_counts_in_statistics then temperature_c end)
            as min_temperature_c,
        avg(case when temperature_counts_in_statistics then temperature_c end)
            as avg_temperature_c,
        max(case when temperature_counts_in_statistics then temperature_c end)
            as max_temperature_c,
        min(case when counts_in_statistics then soil_moisture_pct end)
            as min_reported_soil_moisture_pct,
        max(case when counts_in_statistics then soil_moisture_pct end)
            as max_reported_soil_moisture_pct,
        min(case when counts_in_statistics then temperature_c end) as min_reported_temperature_c,
        max(case when counts_in_statistics then temperature_c end) as max_reported_temperature_c
    from readings
    group by plant_id

)

select * from final
