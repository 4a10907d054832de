{#- The open incidents as the alerts announce them: fct_incidents with the words of the seed
    incident_kinds (label, advice, who is told, how to show the worst value) and whether the
    alert is held. Held (ongoing, but nothing new announced): no_reading while the plant is on
    loan or the whole feed is down (an open feed_down incident, told to the operator instead);
    not_watered while the plant is on loan or missing; a breach (threshold, baseline, sensor
    faults) until it has lasted alert_after_minutes (last_seen_at - started_at), so one that
    ends sooner is never mailed; moisture_low while the plant's daily watering (last watering
    + 24 h) is due within alert_after_minutes, since the watering is about to fix it. The
    alerts only format and deliver. -#}

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

clock as (

    select * from {{ ref('int_warehouse_clock') }}

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
        )
        or coalesce(
            incidents.kind in (
                'moisture_low', 'moisture_high', 'temperature_low', 'temperature_high',
                'baseline_deviation', 'sensor_faults'
            )
            and {{ lnhm.minutes_between('incidents.started_at', 'incidents.last_seen_at') }}
            < {{ var('alert_after_minutes') }},
            false
        )
        or coalesce(
            incidents.kind = 'moisture_low'
            -- minutes until the next daily watering (the simulated and real plants water
            -- at the same time every day)
            and 1440 - {{ lnhm.minutes_between('statuses.last_watered_at', 'clock.as_of_at') }}
            between 0 and {{ var('alert_after_minutes') }},
            false
        ) as is_held
    from incidents
    inner join kinds on incidents.kind = kinds.code
    left join statuses on incidents.plant_id = statuses.plant_id
    cross join feed
    cross join clock

)

select * from final
