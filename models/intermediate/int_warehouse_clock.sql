{#- "Now" for the marts: the newest fetch of any ingest run (reading or failure), so that
    status and incidents depend on the data, not on when dbt happens to run. -#}
with

fetches as (

    select fetched_at from {{ ref('stg_plants_api__readings') }}
    union all
    select fetched_at from {{ ref('stg_plants_api__fetch_failures') }}

),

final as (

    select max(fetched_at) as as_of_at
    from fetches

)

select * from final
