{#- One row per plant ever read: cleaned name (and the original), scientific name, origin,
    current botanist and image. -#}
with

plants as (

    select * from {{ ref('int_plants_latest') }}

),

origins as (

    select * from {{ ref('int_origins_resolved') }}

),

botanists as (

    select * from {{ ref('int_botanists_latest') }}

),

final as (

    select
        plants.plant_id,
        plants.plant_name,
        plants.plant_name_original,
        plants.scientific_name,
        origins.origin_id,
        origins.origin_city,
        origins.origin_country_code,
        origins.origin_country_name,
        origins.origin_continent,
        origins.origin_latitude,
        origins.origin_longitude,
        origins.origin_timezone,
        plants.botanist_id,
        coalesce(botanists.botanist_name, plants.botanist_name) as botanist_name,
        coalesce(botanists.botanist_email, plants.botanist_email) as botanist_email,
        plants.image_url,
        plants.image_license_name,
        plants.first_seen_at,
        plants.last_seen_at
    from plants
    left join origins on plants.plant_id = origins.plant_id
    left join botanists on plants.botanist_id = botanists.botanist_id

)

select * from final
