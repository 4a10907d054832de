{#- Every plant incident for the site (plant pages and their history charts, overview,
    botanists), archived days' included (fct_incidents is long-lived), with the kind's label and
    severity from the seed incident_kinds, the plant and its botanist, and how long an open one
    has been open at the warehouse clock. The data feed's own incident (feed_down, no plant) is
    the operators' and is not on the site. -#}
with

incidents as (

    select * from {{ ref('fct_incidents') }}
    where plant_id is not null

),

kinds as (

    select * from {{ ref('dim_incident_kinds') }}

),

plants as (

    select * from {{ ref('rpt_plants') }}

),

clock as (

    select * from {{ ref('int_warehouse_clock') }}

),

final as (

    select
        incidents.incident_id,
        incidents.plant_id,
        plants.plant_name,
        plants.botanist_id,
        plants.botanist_name,
        incidents.kind,
        kinds.label as kind_label,
        incidents.severity,
        incidents.started_at,
        incidents.ended_at,
        incidents.is_open,
        incidents.worst_value,
        kinds.worst_value_unit,
        incidents.threshold,
        incidents.readings,
        case
            when incidents.is_open
                then {{ lnhm.minutes_between('incidents.started_at', 'clock.as_of_at') }} / 60.0
        end as open_hours
    from incidents
    inner join plants on incidents.plant_id = plants.plant_id
    left join kinds on incidents.kind = kinds.code
    cross join clock

)

select * from final
