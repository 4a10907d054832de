{#- One row per plant with valid soil moisture readings in the drying-fit window: how fast it
    is drying and when it is expected to fall below its low moisture threshold (seed
    care_thresholds: a default row plus per-plant rows).
    The fit takes the plant's readings whose moisture counts in statistics, recorded in the last
    drying_fit_window_minutes before "now" (int_warehouse_clock) and since its latest watering.
    It is a Theil-Sen line: the slope is the median of the slopes between every pair of those
    readings and the level the median of (moisture - slope x time), so one spike moves neither
    (an ordinary least-squares slope would follow it). dry_expected_at is null when the plant is
    not drying (slope >= 0), has fewer than drying_fit_min_readings readings in the fit, or is
    already at or below its threshold. Times are seconds from as_of_at, which keeps the numbers
    small. -#}
{#- A table: plant_status and early_warnings both read it, and as a view each fitted every
    plant's lines again (1 s of the build at 1,000 plants). -#}
{{ config(materialized='table') }}
{%- set now = lnhm.watermark('as_of_at', ref('int_warehouse_clock')) %}

with

readings as not materialized (

    -- the fit window's readings, by the clock read as a literal (macros/watermark.sql): read
    -- twice, and PostgreSQL filters fct_readings itself rather than a copy of every hot reading
    select * from {{ ref('fct_readings') }}
    where
        soil_moisture_counts_in_statistics
        and recorded_at
        >= {{ lnhm.subtract_minutes(now, var('drying_fit_window_minutes')) }}

),

thresholds as (

    select * from {{ ref('care_thresholds') }}

),

clock as (

    select * from {{ ref('int_warehouse_clock') }}

),

ranked_readings as (

    -- only the fit window's readings (readings): a plant with none there has no fit, and one
    -- with some has its latest reading there too (ranking every hot reading cost 1 s at 1,000
    -- plants)
    select
        readings.plant_id,
        readings.last_watered_at,
        row_number() over (
            partition by readings.plant_id
            order by readings.recorded_at desc, readings.fetched_at desc
        ) as recency_rank
    from readings

),

latest_watering as (

    select
        plant_id,
        last_watered_at
    from ranked_readings
    where recency_rank = 1

),

fit_readings as (

    select
        readings.plant_id,
        readings.recorded_at,
        readings.soil_moisture_pct as moisture_pct,
        {{ lnhm.epoch_seconds('readings.recorded_at') }}
        - {{ lnhm.epoch_seconds('clock.as_of_at') }} as seconds_from_now
    from readings
    inner join latest_watering on readings.plant_id = latest_watering.plant_id
    cross join clock
    where
        readings.recorded_at <= clock.as_of_at
        and (
            latest_watering.last_watered_at is null
            or readings.recorded_at >= latest_watering.last_watered_at
        )

),

pair_slopes as (

    select
        earlier.plant_id,
        (later.moisture_pct - earlier.moisture_pct)
        / (later.seconds_from_now - earlier.seconds_from_now) as slope_pct_per_second
    from fit_readings as earlier
    inner join fit_readings as later
        on
            earlier.plant_id = later.plant_id
            and earlier.seconds_from_now < later.seconds_from_now

),

slopes as (

    select
        plant_id,
        cast(
            percentile_cont(0.5) within group (order by slope_pct_per_second) as double precision
        ) as slope_pct_per_second
    from pair_slopes
    group by plant_id

),

levels as (

    select
        fit_readings.plant_id,
        cast(count(*) as bigint) as fit_readings,
        min(fit_readings.recorded_at) as fit_started_at,
        cast(
            percentile_cont(0.5) within group (
                order by fit_readings.moisture_pct - slopes.slope_pct_per_second * fit_readings.seconds_from_now
            ) as double precision
        ) as fitted_moisture_pct
    from fit_readings
    inner join slopes on fit_readings.plant_id = slopes.plant_id
    group by fit_readings.plant_id

),

plant_thresholds as (

    select
        levels.plant_id,
        coalesce(own.soil_moisture_pct_min, dflt.soil_moisture_pct_min) as soil_moisture_pct_min
    from levels
    left join thresholds as own on levels.plant_id = own.plant_id
    left join thresholds as dflt on dflt.plant_id is null

),

final as (

    select
        levels.plant_id,
        levels.fit_readings,
        levels.fit_started_at,
        slopes.slope_pct_per_second * 3600 as drying_rate_pct_per_hour,
        levels.fitted_moisture_pct,
        cast(plant_thresholds.soil_moisture_pct_min as double precision) as soil_moisture_pct_min,
        case
            when
                levels.fit_readings >= {{ var('drying_fit_min_readings') }}
                and slopes.slope_pct_per_second < 0
                and levels.fitted_moisture_pct > plant_thresholds.soil_moisture_pct_min
                -- whole seconds: the forecast is no finer than that, and equal on every engine
                then clock.as_of_at + round(
                        (plant_thresholds.soil_moisture_pct_min - levels.fitted_moisture_pct)
                        / slopes.slope_pct_per_second
                    ) * interval '1 second'
        end as dry_expected_at,
        clock.as_of_at
    from levels
    inner join slopes on levels.plant_id = slopes.plant_id
    inner join plant_thresholds on levels.plant_id = plant_thresholds.plant_id
    cross join clock

)

select * from final
