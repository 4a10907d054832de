{#- One row per watering: every distinct value of a plant's last_watered is one watering (a
    change of last_watered is a new one). Long-lived: incremental from the readings fetched
    since the last run, never rebuilt (full_refresh: false), so it keeps every watering after
    the hot store is pruned. -#}
{{
    config(
        materialized='incremental',
        unique_key='watering_id',
        full_refresh=false,
    )
}}

with

new_readings as (

    select * from {{ ref('int_readings_flagged') }}
    {% if is_incremental() %}
        where fetched_at_tz >= {{ lnhm.watermark('last_reported_at', tz=true) }}
    {% endif %}

),

readings as (

    select * from new_readings
    where
        last_watered_at is not null
        and last_watered_at <= {{ lnhm.add_minutes('fetched_at', var('future_tolerance_minutes')) }}

),

events as (

    select
        cast(plant_id as {{ dbt.type_string() }})
        || '|' || {{ lnhm.format_timestamp_iso('last_watered_at') }} as watering_id,
        plant_id,
        last_watered_at as watered_at,
        min(fetched_at) as first_reported_at,
        max(fetched_at) as last_reported_at
    from readings
    group by plant_id, last_watered_at

),

final as (

    {% if is_incremental() %}
        select
            events.watering_id,
            events.plant_id,
            events.watered_at,
            case
                when existing.first_reported_at < events.first_reported_at
                    then existing.first_reported_at
                else events.first_reported_at
            end as first_reported_at,
            events.last_reported_at
        from events
        left join {{ this }} as existing on events.watering_id = existing.watering_id
    {% else %}
        select * from events
    {% endif %}

)

select * from final
