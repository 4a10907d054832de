{#- The open incidents as the alerts announce them: fct_incidents with the words of the seed
    incident_kinds (label, advice, who is told, how to show the worst value) and whether the
    alert is held. Held (ongoing, but nothing new announced): no_reading while the plant is on
    loan or the whole feed is down (an open feed_down incident, told to the operator instead);
    not_watered while the plant is on loan or missing. The alerts only format and deliver. -#}
{{ config(materialized='view') }}

with

incidents as (

    select * from {{ ref('fct_incidents') }}
    where is_open

),

kinds as (

    select * from {{ ref('dim_incident_kinds') }}

),

statuses as (

    select * from {{ ref('plant_status') }}

),

feed as (

    select count(*) > 0 as is_feed_down
    from incidents
    where kind = 'feed_down'

),

final as (

    select
        incidents.incident_id,
        incidents.plant_id,
        incidents.kind,
        kinds.label,
        kinds.advice,
        kinds.audience,
        incidents.severity,
        incidents.started_at,
        incidents.worst_value,
        incidents.threshold,
        incidents.readings,
        incidents.last_seen_at,
        kinds.worst_value_label,
        kinds.worst_value_unit,
        kinds.worst_value_digits,
        coalesce(
            (
                incidents.kind = 'no_reading'
                and (feed.is_feed_down or statuses.is_on_loan)
            )
            or (
                incidents.kind = 'not_watered'
                and (statuses.is_on_loan or statuses.is_missing)
            ),
            false
        ) as is_held
    from incidents
    inner join kinds on incidents.kind = kinds.code
    left join statuses on incidents.plant_id = statuses.plant_id
    cross join feed

)

select * from final
