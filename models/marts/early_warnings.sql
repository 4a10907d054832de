{#- One row per plant that will be dry before its next usual watering: the early warning the
    botanist is mailed once per drying cycle (warning_id: the plant and the watering the cycle
    began with). The next watering is the last one plus the plant's usual interval (the median
    of its last intervals in fct_waterings, so one late watering does not move it); a plant with
    fewer than two waterings on record has no usual interval and is not warned. Dry is
    plant_status.dry_expected_at (int_plant_drying's forecast). A plant forecast to be dry for
    less than alert_after_minutes before its watering is not warned, as a breach that short is
    not mailed either. -#}
with

statuses as (

    select * from {{ ref('plant_status') }}

),

drying as (

    select * from {{ ref('int_plant_drying') }}

),

waterings as (

    select * from {{ ref('fct_waterings') }}

),

intervals as (

    select
        plant_id,
        watered_at,
        {{ lnhm.minutes_between(
            'lag(watered_at) over (partition by plant_id order by watered_at)', 'watered_at'
        ) }} as minutes_since_previous,
        row_number() over (partition by plant_id order by watered_at desc) as recency_rank
    from waterings

),

usual_intervals as (

    select
        plant_id,
        cast(count(*) as bigint) as intervals,
        cast(
            percentile_cont(0.5) within group (order by minutes_since_previous)
            as double precision
        ) as usual_interval_minutes
    from intervals
    where
        minutes_since_previous is not null
        and recency_rank <= {{ var('usual_watering_intervals') }}
    group by plant_id

),

forecasts as (

    select
        statuses.plant_id,
        statuses.last_watered_at,
        statuses.dry_expected_at,
        statuses.soil_moisture_pct,
        statuses.as_of_at,
        drying.soil_moisture_pct_min,
        usual_intervals.usual_interval_minutes,
        statuses.last_watered_at
        + usual_intervals.usual_interval_minutes * interval '1 minute' as next_watering_at
    from statuses
    inner join usual_intervals on statuses.plant_id = usual_intervals.plant_id
    inner join drying on statuses.plant_id = drying.plant_id
    where
        statuses.dry_expected_at is not null
        and statuses.last_watered_at is not null
        and not statuses.is_on_loan
        and not statuses.is_missing

),

final as (

    select
        md5(
            cast(plant_id as {{ dbt.type_string() }})
            || '|' || {{ lnhm.format_timestamp_iso('last_watered_at') }}
        ) as warning_id,
        plant_id,
        last_watered_at,
        usual_interval_minutes,
        next_watering_at,
        dry_expected_at,
        {{ lnhm.minutes_between('dry_expected_at', 'next_watering_at') }} / 60.0
            as hours_dry_before_watering,
        soil_moisture_pct,
        soil_moisture_pct_min,
        as_of_at
    from forecasts
    where
        {{ lnhm.minutes_between('dry_expected_at', 'next_watering_at') }}
        >= {{ var('alert_after_minutes') }}

)

select * from final
