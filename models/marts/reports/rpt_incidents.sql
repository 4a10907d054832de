{#- Every incident for the site (plant pages, overview, botanists), with the plant and its
    botanist, and how long an open one has been open at the warehouse clock. -#}
with

incidents as (

    select * from {{ ref('anomalies') }}

),

plants as (

    select * from {{ ref('rpt_plants') }}

),

clock as (

    select * from {{ ref('int_warehouse_clock') }}

),

final as (

    select
        incidents.anomaly_id as incident_id,
        incidents.plant_id,
        plants.plant_name,
        plants.botanist_id,
        plants.botanist_name,
        incidents.kind,
        incidents.started_at,
        incidents.ended_at,
        incidents.is_open,
        incidents.worst_value,
        incidents.readings,
        case
            when incidents.is_open
                then {{ lnhm.minutes_between('incidents.started_at', 'clock.as_of_at') }} / 60.0
        end as open_hours
    from incidents
    inner join plants on incidents.plant_id = plants.plant_id
    cross join clock

)

select * from final
