{#- Per plant and UTC hour of the hot store: readings and the spread of valid values
    (duplicates and out-of-range / implausible values left out of the statistics). -#}
with

readings as (

    select * from {{ ref('fct_readings') }}
    where recorded_at is not null and not is_duplicate

),

final as (

    select
        plant_id,
        {{ dbt.date_trunc('hour', 'recorded_at') }} as hour_at,
        count(*) as readings,
        cast(sum(case when is_flagged then 1 else 0 end) as bigint) as flagged_readings,
        avg(case when not is_moisture_out_of_range then soil_moisture_pct end) as avg_soil_moisture_pct,
        min(case when not is_moisture_out_of_range then soil_moisture_pct end) as min_soil_moisture_pct,
        max(case when not is_moisture_out_of_range then soil_moisture_pct end) as max_soil_moisture_pct,
        avg(case when not is_temperature_implausible then temperature_c end) as avg_temperature_c,
        min(case when not is_temperature_implausible then temperature_c end) as min_temperature_c,
        max(case when not is_temperature_implausible then temperature_c end) as max_temperature_c
    from readings
    group by plant_id, {{ dbt.date_trunc('hour', 'recorded_at') }}

)

select * from final
