{#- One row: the warehouse clock of the last run that recorded incidents. Built after
    fct_incidents (and its tests pass), so a run that stopped before or at fct_incidents leaves
    it where it was; int_incident_breaches reads from what was fetched since
    (macros/incident_breaches_since.sql), so nothing fetched is judged by no run. -#}
-- depends_on: {{ ref('fct_incidents') }}
{{ config(materialized='table') }}

with

clock as (

    select * from {{ ref('int_warehouse_clock') }}

),

final as (

    select as_of_at from clock

)

select * from final
