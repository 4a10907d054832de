{#- Each plant's origin with the country resolved from a v1 ISO code or a v2/v3 country name
    (seed `countries`, plus `country_aliases` for names that differ from the seed's). -#}
with

plants as (

    select * from {{ ref('int_plants_latest') }}

),

countries as (

    select * from {{ ref('countries') }}

),

aliases as (

    select * from {{ ref('country_aliases') }}

),

resolved as (

    select
        plants.plant_id,
        plants.origin_city,
        plants.origin_country_original,
        plants.origin_latitude,
        plants.origin_longitude,
        plants.origin_timezone,
        coalesce(by_code.country_code, by_name.country_code, aliases.country_code) as origin_country_code
    from plants
    left join countries as by_code
        on upper(plants.origin_country_original) = by_code.country_code
    left join countries as by_name
        on lower(plants.origin_country_original) = lower(by_name.country_name)
    left join aliases
        on lower(plants.origin_country_original) = lower(aliases.alias)

),

final as (

    select
        resolved.plant_id,
        lower(coalesce(resolved.origin_country_code, resolved.origin_country_original, '?'))
        || '|' || lower(coalesce(resolved.origin_city, '?')) as origin_id,
        resolved.origin_city,
        resolved.origin_country_original,
        resolved.origin_country_code,
        countries.country_name as origin_country_name,
        countries.continent as origin_continent,
        resolved.origin_latitude,
        resolved.origin_longitude,
        resolved.origin_timezone
    from resolved
    left join countries on resolved.origin_country_code = countries.country_code

)

select * from final
