{#- Every request to the API of the hot store, successful or not, per plant in fetch order. -#}
with

readings as (

    select * from {{ ref('stg_plants_api__readings') }}

),

failures as (

    select * from {{ ref('stg_plants_api__fetch_failures') }}

),

unioned as (

    select
        plant_id,
        fetched_at,
        fetched_at_tz,
        run_id,
        'reading' as outcome
    from readings
    union all
    select
        plant_id,
        fetched_at,
        fetched_at_tz,
        run_id,
        error_kind as outcome
    from failures

)

select * from unioned
