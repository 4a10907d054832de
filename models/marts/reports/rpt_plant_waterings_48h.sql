{#- Waterings per plant in the 48 hours up to the warehouse clock (fct_waterings is
    long-lived), each marked if it is within the last 24 hours. -#}
with

clock as (

    select * from {{ ref('int_warehouse_clock') }}

),

final as (

    select
        waterings.plant_id,
        waterings.watered_at,
        waterings.watered_at > {{ lnhm.subtract_hours('clock.as_of_at', 24) }} as is_last_24h
    from {{ ref('fct_waterings') }} as waterings
    cross join clock
    where
        waterings.watered_at > {{ lnhm.subtract_hours('clock.as_of_at', 48) }}
        and waterings.watered_at <= clock.as_of_at

)

select * from final
