{#- One row per origin (country and city) of the plants, with country name and continent from
    the seed `countries`. -#}
with

origins as (

    select * from {{ ref('int_origins_resolved') }}

),

final as (

    select
        origin_id,
        max(origin_city) as origin_city,
        max(origin_country_code) as origin_country_code,
        max(origin_country_name) as origin_country_name,
        max(origin_continent) as origin_continent,
        max(origin_country_original) as origin_country_original,
        avg(origin_latitude) as origin_latitude,
        avg(origin_longitude) as origin_longitude,
        max(origin_timezone) as origin_timezone,
        cast(count(*) as bigint) as plants_count
    from origins
    group by origin_id

)

select * from final
