{#- One row per botanist ever seen, with the number of plants currently assigned to them. -#}
with

botanists as (

    select * from {{ ref('int_botanists_latest') }}

),

plants as (

    select * from {{ ref('int_plants_latest') }}

),

plant_counts as (

    select
        botanist_id,
        count(*) as plants_count
    from plants
    group by botanist_id

),

final as (

    select
        botanists.botanist_id,
        botanists.botanist_name,
        botanists.botanist_email,
        botanists.is_email_valid,
        botanists.phone_digits,
        botanists.phone_extension,
        botanists.phone_original,
        cast(coalesce(plant_counts.plants_count, 0) as bigint) as plants_count
    from botanists
    left join plant_counts on botanists.botanist_id = plant_counts.botanist_id

)

select * from final
