{#- One row: what the overview and every footer say about the warehouse as a whole (clock,
    hot store contents, plants per status). The archive's own figures come from its manifest. -#}
with

clock as (

    select * from {{ ref('int_warehouse_clock') }}

),

readings as (

    select * from {{ ref('fct_readings') }}

),

plants as (

    select * from {{ ref('rpt_plants') }}

),

feed as (

    -- the feed is down while a feed_down incident is open (no reading from any plant)
    select cast(count(*) > 0 as boolean) as is_feed_down
    from {{ ref('fct_incidents') }}
    where kind = 'feed_down' and is_open

),

hot as (

    select
        min(recorded_at) as hot_first_recorded_at,
        max(recorded_at) as hot_last_recorded_at,
        max(fetched_at) as last_fetched_at,
        cast(count(*) as bigint) as hot_readings
    from readings

),

plant_counts as (

    select
        cast(count(*) as bigint) as plants,
        {% for status in ['ok', 'warning', 'critical', 'missing', 'on_loan', 'sensor_fault'] %}
            cast(sum(case when status = '{{ status }}' then 1 else 0 end) as bigint)
                as plants_{{ status }},
        {% endfor %}
        cast(sum(case when status in ('ok', 'warning', 'critical') then 1 else 0 end) as bigint)
            as plants_reporting,
        cast(sum(open_incidents) as bigint) as open_incidents
    from plants

),

final as (

    select
        clock.as_of_at,
        hot.hot_first_recorded_at,
        hot.hot_last_recorded_at,
        hot.last_fetched_at,
        hot.hot_readings,
        feed.is_feed_down,
        -- a page whose newest reading is older than this is marked stale, as plants are missing
        cast({{ var('missing_after_minutes') }} as bigint) as stale_after_minutes,
        plant_counts.*
    from clock
    cross join hot
    cross join feed
    cross join plant_counts

)

select * from final
