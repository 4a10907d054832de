{#- Per plant and day: mean and sample standard deviation of valid temperature and soil
    moisture readings over the 7 days ending that day, combined exactly from the daily sums in
    plant_daily_summary. Temperature from the spike-free sums (int_temperature_spikes: random
    spikes would make every plant's spread 1.6-2.4 C against a true 0.1-0.2 C); a summary row
    written before those sums existed adds no temperature (null) until its day is recomputed.
    Long-lived (full_refresh: false): each run recomputes the days from the day before the
    earliest summary day that changed since the last run onwards. -#}
{{
    config(
        materialized='incremental',
        unique_key=['plant_id', 'day'],
        full_refresh=false,
    )
}}

with

summary as (

    select * from {{ ref('plant_daily_summary') }}

),

changed_summary as (

    select * from summary
    {% if is_incremental() %}
        where last_fetched_at >= {{ lnhm.watermark('source_last_fetched_at') }}
    {% endif %}

),

target_days as (

    -- a full build takes every day; an incremental run the days from the earliest summary day
    -- that changed since the last run (later days' windows include it), and the day before it:
    -- a new day's first readings recompute the day before in plant_daily_summary (its last
    -- minutes' spike verdicts) without moving that day's last_fetched_at
    select
        plant_id,
        day
    from summary
    {% if is_incremental() %}
        where day >= (
                select {{ lnhm.add_days('min(changed_summary.day)', -1) }} as first_changed_day
                from changed_summary
            )
    {% endif %}

),

windowed as (

    select
        target_days.plant_id,
        target_days.day,
        cast(count(*) as bigint) as days_7d,
        cast(coalesce(sum(summary.spike_free_temperature_c_n), 0) as bigint) as temperature_c_n_7d,
        sum(summary.spike_free_temperature_c_sum) as temperature_c_sum_7d,
        sum(summary.spike_free_temperature_c_sum_sq) as temperature_c_sum_sq_7d,
        cast(sum(summary.soil_moisture_pct_n) as bigint) as soil_moisture_pct_n_7d,
        sum(summary.soil_moisture_pct_sum) as soil_moisture_pct_sum_7d,
        sum(summary.soil_moisture_pct_sum_sq) as soil_moisture_pct_sum_sq_7d,
        max(summary.last_fetched_at) as source_last_fetched_at
    from target_days
    inner join summary
        on
            target_days.plant_id = summary.plant_id
            and target_days.day >= summary.day
            and {{ lnhm.add_days('target_days.day', -7) }} < summary.day
    group by target_days.plant_id, target_days.day

),

final as (

    select
        plant_id,
        day,
        case
            when temperature_c_n_7d > 0 then temperature_c_sum_7d / temperature_c_n_7d
        end as temperature_c_mean_7d,
        case
            when temperature_c_n_7d > 1
                then sqrt(greatest(
                        (temperature_c_sum_sq_7d - temperature_c_sum_7d * temperature_c_sum_7d / temperature_c_n_7d)
                        / (temperature_c_n_7d - 1),
                        0
                    ))
        end as temperature_c_stddev_7d,
        case
            when soil_moisture_pct_n_7d > 0 then soil_moisture_pct_sum_7d / soil_moisture_pct_n_7d
        end as soil_moisture_pct_mean_7d,
        case
            when soil_moisture_pct_n_7d > 1
                then sqrt(greatest(
                        (
                            soil_moisture_pct_sum_sq_7d
                            - soil_moisture_pct_sum_7d * soil_moisture_pct_sum_7d / soil_moisture_pct_n_7d
                        )
                        / (soil_moisture_pct_n_7d - 1),
                        0
                    ))
        end as soil_moisture_pct_stddev_7d,
        temperature_c_n_7d as temperature_c_readings_7d,
        soil_moisture_pct_n_7d as soil_moisture_pct_readings_7d,
        days_7d,
        source_last_fetched_at
    from windowed

)

select * from final
