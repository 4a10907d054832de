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
        plant_counts.*
    from clock
    cross join hot
    cross join plant_counts

)

select * from final
