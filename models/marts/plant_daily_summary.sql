{#- Per plant and UTC day: readings, flagged readings, spread of valid values, waterings.
    Long-lived: never rebuilt (full_refresh: false). Each run recomputes, from every reading of
    the day, only the days that got readings fetched since the last run and that the archive
    cannot have pruned: days from date(newest fetch - retention_hours) on, or older days whose
    readings are all still in fct_readings (at least as many as already counted). A pruned day
    keeps its row as it is, so history survives the pruning of raw and fct_readings. The sums
    and counts let plant_baselines combine days exactly. -#}
{{
    config(
        materialized='incremental',
        unique_key=['plant_id', 'day'],
        full_refresh=false,
    )
}}

with

readings as (

    select
        *,
        cast(recorded_at as date) as day
    from {{ ref('fct_readings') }}
    where recorded_at is not null

),

waterings as (

    select * from {{ ref('fct_waterings') }}

),

hot_floor as (

    -- the archive prunes whole UTC days older than retention_hours: days from this one on
    -- still have all their readings in fct_readings
    select
        cast(
            {{ lnhm.subtract_hours('max(fetched_at)', var('retention_hours')) }} as date
        ) as first_unprunable_day
    from readings

),

hot_day_counts as (

    select
        day,
        count(*) as readings
    from readings
    group by day

),

kept_day_counts as (

    select
        day,
        sum(readings) as readings
    {% if is_incremental() %}
        from {{ this }}
    {% else %}
        from hot_day_counts
        where 1 = 0
    {% endif %}
    group by day

),

changed_days as (

    -- a full build takes every day; an incremental run the days with new readings, if the
    -- archive cannot have pruned them yet (recent, or still holding every reading counted)
    select distinct readings.day
    from readings
    {% if is_incremental() %}
        left join hot_day_counts on readings.day = hot_day_counts.day
        left join kept_day_counts on readings.day = kept_day_counts.day
        where
            readings.fetched_at >= (select max(last_fetched_at) as watermark from {{ this }})
            and (
                readings.day >= (select hot_floor.first_unprunable_day from hot_floor)
                or hot_day_counts.readings >= coalesce(kept_day_counts.readings, 0)
            )
    {% endif %}

),

days_readings as (

    select readings.*
    from readings
    inner join changed_days on readings.day = changed_days.day

),

valid as (

    select
        plant_id,
        day,
        fetched_at,
        is_flagged,
        case when soil_moisture_counts_in_statistics then soil_moisture_pct end as soil_moisture_pct,
        case when temperature_counts_in_statistics then temperature_c end as temperature_c
    from days_readings

),

daily as (

    select
        plant_id,
        day,
        count(*) as readings,
        cast(sum(case when is_flagged then 1 else 0 end) as bigint) as flagged_readings,
        avg(soil_moisture_pct) as avg_soil_moisture_pct,
        min(soil_moisture_pct) as min_soil_moisture_pct,
        max(soil_moisture_pct) as max_soil_moisture_pct,
        avg(temperature_c) as avg_temperature_c,
        min(temperature_c) as min_temperature_c,
        max(temperature_c) as max_temperature_c,
        count(soil_moisture_pct) as soil_moisture_pct_n,
        sum(soil_moisture_pct) as soil_moisture_pct_sum,
        sum(soil_moisture_pct * soil_moisture_pct) as soil_moisture_pct_sum_sq,
        count(temperature_c) as temperature_c_n,
        sum(temperature_c) as temperature_c_sum,
        sum(temperature_c * temperature_c) as temperature_c_sum_sq,
        max(fetched_at) as last_fetched_at
    from valid
    group by plant_id, day

),

daily_waterings as (

    select
        plant_id,
        cast(watered_at as date) as day,
        count(*) as waterings
    from waterings
    group by plant_id, cast(watered_at as date)

),

final as (

    select
        daily.plant_id,
        daily.day,
        daily.readings,
        daily.flagged_readings,
        daily.avg_soil_moisture_pct,
        daily.min_soil_moisture_pct,
        daily.max_soil_moisture_pct,
        daily.avg_temperature_c,
        daily.min_temperature_c,
        daily.max_temperature_c,
        coalesce(daily_waterings.waterings, 0) as waterings,
        daily.soil_moisture_pct_n,
        daily.soil_moisture_pct_sum,
        daily.soil_moisture_pct_sum_sq,
        daily.temperature_c_n,
        daily.temperature_c_sum,
        daily.temperature_c_sum_sq,
        daily.last_fetched_at
    from daily
    left join daily_waterings
        on daily.plant_id = daily_waterings.plant_id and daily.day = daily_waterings.day

)

select * from final
