{#- Per plant, the 24 hours up to the warehouse clock (rpt_readings_24h): readings, flagged
    readings and the spread of the values that count in statistics (fct_readings'
    soil_moisture_ / temperature_counts_in_statistics, the one rule). -#}
with

valid as (

    select
        plant_id,
        is_flagged,
        case when soil_moisture_counts_in_statistics then soil_moisture_pct end as soil_moisture_pct,
        case when temperature_counts_in_statistics then temperature_c end as temperature_c
    from {{ ref('rpt_readings_24h') }}

),

final as (

    select
        plant_id,
        count(*) as readings,
        cast(sum(case when is_flagged then 1 else 0 end) as bigint) as flagged_readings,
        min(soil_moisture_pct) as min_soil_moisture_pct,
        avg(soil_moisture_pct) as avg_soil_moisture_pct,
        max(soil_moisture_pct) as max_soil_moisture_pct,
        min(temperature_c) as min_temperature_c,
        avg(temperature_c) as avg_temperature_c,
        max(temperature_c) as max_temperature_c
    from valid
    group by plant_id

)

select * from final
