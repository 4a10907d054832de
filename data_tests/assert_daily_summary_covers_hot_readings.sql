-- The archive job prunes a day only once plant_daily_summary counts at least the readings
-- fct_readings holds for each plant that day; after every build that holds for every day.
with

hot as (

    select
        plant_id,
        cast(recorded_at as date) as day,
        count(*) as readings
    from {{ ref('fct_readings') }}
    where recorded_at is not null
    group by plant_id, cast(recorded_at as date)

),

summary as (

    select * from {{ ref('plant_daily_summary') }}

),

final as (

    select
        hot.plant_id,
        hot.day,
        hot.readings as hot_readings,
        summary.readings as summary_readings
    from hot
    left join summary on hot.plant_id = summary.plant_id and hot.day = summary.day
    where summary.readings is null or summary.readings < hot.readings

)

select * from final
