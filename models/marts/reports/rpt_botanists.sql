{#- One row per botanist on the site: who they are, how many of their plants there are, how
    many need attention (status other than ok / on loan) and their plants' open incidents. -#}
with

botanists as (

    select * from {{ ref('dim_botanists') }}

),

plants as (

    select * from {{ ref('rpt_plants') }}

),

people as (

    select
        botanist_id,
        botanist_name,
        botanist_email,
        is_email_valid,
        phone_digits,
        phone_extension
    from botanists
    union all
    -- botanists known only from plant_status (no dim_botanists row) get a row too
    select distinct
        plants.botanist_id,
        plants.botanist_name,
        plants.botanist_email,
        cast(null as boolean) as is_email_valid,
        cast(null as {{ dbt.type_string() }}) as phone_digits,
        cast(null as {{ dbt.type_string() }}) as phone_extension
    from plants
    where
        plants.botanist_id is not null
        and plants.botanist_id not in (select botanists.botanist_id from botanists)

),

plant_counts as (

    select
        botanist_id,
        cast(count(*) as bigint) as plants,
        cast(sum(case when status not in ('ok', 'on_loan') then 1 else 0 end) as bigint)
            as plants_needing_attention,
        cast(sum(open_incidents) as bigint) as open_incidents
    from plants
    group by botanist_id

),

final as (

    select
        people.botanist_id,
        people.botanist_name,
        people.botanist_email,
        people.is_email_valid,
        people.phone_digits,
        people.phone_extension,
        coalesce(plant_counts.plants, 0) as plants,
        coalesce(plant_counts.plants_needing_attention, 0) as plants_needing_attention,
        coalesce(plant_counts.open_incidents, 0) as open_incidents
    from people
    left join plant_counts on people.botanist_id = plant_counts.botanist_id

)

select * from final
