-- Plants drying fastest right now, with how long until they reach their moisture minimum at
-- the current trend: a starting point for analysts (`dbt compile` renders it).
with

status as (

    select * from {{ ref('plant_status') }}

),

thresholds as (

    select * from {{ ref('care_thresholds') }}

),

with_minimum as (

    select
        status.plant_id,
        status.plant_name,
        status.botanist_name,
        status.soil_moisture_pct,
        status.moisture_trend_pct_per_hour,
        coalesce(own.soil_moisture_pct_min, dflt.soil_moisture_pct_min) as soil_moisture_pct_min
    from status
    left join thresholds as own on status.plant_id = own.plant_id
    cross join thresholds as dflt
    where dflt.plant_id is null and status.status not in ('on_loan', 'missing')

),

final as (

    select
        *,
        case
            when moisture_trend_pct_per_hour < 0
                then (soil_moisture_pct - soil_moisture_pct_min) / -moisture_trend_pct_per_hour
        end as hours_until_minimum
    from with_minimum

)

select * from final
order by hours_until_minimum
