{#- Per plant and UTC hour of the hot store: readings and the spread of the values that count
    in statistics (fct_readings' counts_in_statistics flags). -#}
with

readings as (

    select * from {{ ref('fct_readings') }}
    where counts_in_statistics

),

final as (

    select
        plant_id,
        {{ dbt.date_trunc('hour', 'recorded_at') }} as hour_at,
        count(*) as readings,
        cast(sum(case when is_flagged then 1 else 0 end) as bigint) as flagged_readings,
        avg(case when soil_moisture_counts_in_statistics then soil_moisture_pct end) as avg_soil_moisture_pct,
        min(case when soil_moisture_counts_in_statistics then soil_moisture_pct end) as min_soil_moisture_pct,
        max(case when soil_moisture_counts_in_statistics then soil_moisture_pct end) as max_soil_moisture_pct,
        avg(case when temperature_counts_in_statistics then temperature_c end) as avg_temperature_c,
        min(case when temperature_counts_in_statistics then temperature_c end) as min_temperature_c,
        max(case when temperature_counts_in_statistics then temperature_c end) as max_temperature_c
    from readings
    group by plant_id, {{ dbt.date_trunc('hour', 'recorded_at') }}

)

select * from final
