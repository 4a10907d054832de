{{ config(materialized='ephemeral') }}
{#- The readings of the 24 hours up to the warehouse clock (newest fetch, int_warehouse_clock),
    written once for the site's 24-hour marts (statistics, chart, flagged readings). The hot
    store always holds these hours: the archive takes only whole UTC days older than
    retention_hours (at least 24). Ephemeral: nothing is stored. -#}
with

clock as (

    select * from {{ ref('int_warehouse_clock') }}

),

final as (

    select readings.*
    from {{ ref('fct_readings') }} as readings
    cross join clock
    where
        readings.recorded_at > {{ lnhm.subtract_hours('clock.as_of_at', 24) }}
        and readings.recorded_at <= clock.as_of_at

)

select * from final
