{#- The 24-hour chart per plant: 5-minute buckets of the values that count in statistics,
    up to the warehouse clock (rpt_readings_24h). -#}
with

window_readings as (

    select
        readings.*,
        {{ lnhm.add_minutes(
            dbt.date_trunc('hour', 'readings.recorded_at'),
            'cast(floor(extract(minute from readings.recorded_at) / 5) * 5 as integer)') }} as bucket_at
    from {{ ref('rpt_readings_24h') }} as readings

),

final as (

    select
        plant_id,
        bucket_at,
        avg(case when soil_moisture_counts_in_statistics then soil_moisture_pct end) as soil_moisture_pct,
        avg(case when temperature_counts_in_statistics then temperature_c end) as temperature_c
    from window_readings
    group by plant_id, bucket_at

)

select * from final
