{#- One row per origin page: a country, or a continent, of the plants (rpt_origin_plants), with
    how many plants come from it, how many per status, and the origin's figures now (the mean
    of the latest values of its plants reporting now) and over the recent days (every counted
    reading of its plants in the `origin_recent_days` UTC days up to the warehouse clock's day,
    from plant_daily_summary).
    A country's row names its continent's page. -#}
with

origin_plants as (

    select * from {{ ref('rpt_origin_plants') }}

),

-- the origin's values now are those of its plants reporting now: a missing or on-loan plant's
-- latest value is old, a faulting sensor's is not to be trusted (as the overview's grey bar)
judged as (

    select
        *,
        case
            when status not in ('missing', 'on_loan', 'sensor_fault') then soil_moisture_pct
        end as moisture_now,
        case
            when status not in ('missing', 'on_loan', 'sensor_fault') then temperature_c
        end as temperature_now
    from origin_plants

),

summary as (

    select * from {{ ref('plant_daily_summary') }}

),

clock as (

    select cast(as_of_at as date) as clock_day from {{ ref('int_warehouse_clock') }}

),

now_figures as (

    select
        origin_key,
        max(origin_kind) as origin_kind,
        max(origin_name) as origin_name,
        -- a country lies in one continent (seed countries); a continent is its own
        max(case when origin_kind = 'country' then continent_key else origin_key end)
            as continent_key,
        max(
            case
                when origin_kind = 'country' then coalesce(origin_continent, 'Unknown continent')
                else origin_name
            end
        ) as continent_name,
        cast(count(*) as bigint) as plants,
        cast(count(distinct country_key) as bigint) as countries,
        {% for status in ['ok', 'warning', 'critical', 'missing', 'on_loan', 'sensor_fault'] %}
            cast(sum(case when status = '{{ status }}' then 1 else 0 end) as bigint)
                as plants_{{ status }},
        {% endfor %}
        cast(sum(open_incidents) as bigint) as open_incidents,
        cast(count(moisture_now) as bigint) as plants_with_moisture_now,
        avg(moisture_now) as avg_soil_moisture_pct_now,
        min(moisture_now) as min_soil_moisture_pct_now,
        max(moisture_now) as max_soil_moisture_pct_now,
        cast(count(temperature_now) as bigint) as plants_with_temperature_now,
        avg(temperature_now) as avg_temperature_c_now,
        min(temperature_now) as min_temperature_c_now,
        max(temperature_now) as max_temperature_c_now
    from judged
    group by origin_key

),

recent as (

    select
        origin_plants.origin_key,
        cast(sum(summary.readings) as bigint) as recent_readings,
        sum(summary.soil_moisture_pct_sum)
        / nullif(sum(summary.soil_moisture_pct_n), 0) as recent_avg_soil_moisture_pct,
        min(summary.min_soil_moisture_pct) as recent_min_soil_moisture_pct,
        max(summary.max_soil_moisture_pct) as recent_max_soil_moisture_pct,
        sum(summary.temperature_c_sum)
        / nullif(sum(summary.temperature_c_n), 0) as recent_avg_temperature_c,
        min(summary.min_temperature_c) as recent_min_temperature_c,
        max(summary.max_temperature_c) as recent_max_temperature_c
    from origin_plants
    inner join summary on origin_plants.plant_id = summary.plant_id
    cross join clock
    where
        summary.day > {{ lnhm.add_days('clock.clock_day', '-' ~ var('origin_recent_days')) }}
        and summary.day <= clock.clock_day
    group by origin_plants.origin_key

),

final as (

    select
        now_figures.*,
        {{ lnhm.add_days('clock.clock_day', '1 - ' ~ var('origin_recent_days')) }} as recent_first_day,
        clock.clock_day as recent_last_day,
        coalesce(recent.recent_readings, 0) as recent_readings,
        recent.recent_avg_soil_moisture_pct,
        recent.recent_min_soil_moisture_pct,
        recent.recent_max_soil_moisture_pct,
        recent.recent_avg_temperature_c,
        recent.recent_min_temperature_c,
        recent.recent_max_temperature_c
    from now_figures
    cross join clock
    left join recent on now_figures.origin_key = recent.origin_key

)

select * from final
