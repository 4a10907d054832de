{#- The incidents of plants under the name the first reports used: a view over fct_incidents
    (anomaly_id is its stable incident_id). New readers use fct_incidents. -#}
{{ config(materialized='view') }}

with

incidents as (

    select * from {{ ref('fct_incidents') }}

),

final as (

    select
        incident_id as anomaly_id,
        plant_id,
        kind,
        started_at,
        ended_at,
        is_open,
        worst_value,
        readings
    from incidents
    where plant_id is not null

)

select * from final
