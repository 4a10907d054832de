-- One row per botanist: who they are and how many of their plants need attention.
with

people as (
    select
        botanist_id,
        botanist_name,
        botanist_email,
        is_email_valid,
        phone_digits,
        phone_extension
    from dim_botanists
    union all
    -- botanists known only from plants (e.g. archive-only plants) get a row too
    select distinct
        plants.botanist_id,
        plants.botanist_name,
        plants.botanist_email,
        null as is_email_valid,
        null as phone_digits,
        null as phone_extension
    from report_plants as plants
    anti join dim_botanists on plants.botanist_id = dim_botanists.botanist_id
    where plants.botanist_id is not null
),

plant_counts as (
    select
        plants.botanist_id,
        count(*) as plants,
        count(*) filter (
            where coalesce(status.status, 'missing') not in ('ok', 'on_loan')
        ) as plants_needing_attention
    from report_plants as plants
    left join plant_status as status on plants.plant_id = status.plant_id
    group by plants.botanist_id
),

incident_counts as (
    select
        plants.botanist_id,
        count(*) as open_incidents
    from anomalies
    inner join report_plants as plants on anomalies.plant_id = plants.plant_id
    where anomalies.is_open
    group by plants.botanist_id
)

select
    people.*,
    coalesce(plant_counts.plants, 0) as plants,
    coalesce(plant_counts.plants_needing_attention, 0) as plants_needing_attention,
    coalesce(incident_counts.open_incidents, 0) as open_incidents
from people
left join plant_counts on people.botanist_id = plant_counts.botanist_id
left join incident_counts on people.botanist_id = incident_counts.botanist_id
order by people.botanist_name, people.botanist_id
