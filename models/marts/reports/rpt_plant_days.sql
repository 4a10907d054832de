{#- The site's history per plant and UTC day: plant_daily_summary (long-lived, so archived days
    are here too) beside the plant's 7-day baseline of that day from plant_baselines. Columns
    are read as they are, except typical_temperature_c: the day's mean without temperature
    spikes, the figure the baseline band is built from, so the chart's line and band agree. -#}
with

summary as (

    select * from {{ ref('plant_daily_summary') }}

),

baselines as (

    select * from {{ ref('plant_baselines') }}

),

final as (

    select
        summary.plant_id,
        summary.day,
        summary.readings,
        summary.flagged_readings,
        summary.avg_soil_moisture_pct,
        summary.min_soil_moisture_pct,
        summary.max_soil_moisture_pct,
        summary.avg_temperature_c,
        summary.min_temperature_c,
        summary.max_temperature_c,
        case
            when summary.spike_free_temperature_c_n > 0
                then summary.spike_free_temperature_c_sum / summary.spike_free_temperature_c_n
        end as typical_temperature_c,
        summary.waterings,
        summary.hours_dry,
        summary.dry_threshold_pct,
        summary.min_reported_soil_moisture_pct,
        summary.is_min_below_sensor_range,
        baselines.temperature_c_mean_7d,
        baselines.temperature_c_stddev_7d,
        baselines.soil_moisture_pct_mean_7d,
        baselines.soil_moisture_pct_stddev_7d
    from summary
    left join baselines on summary.plant_id = baselines.plant_id and summary.day = baselines.day

)

select * from final
