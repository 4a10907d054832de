{#- "Now" for the marts: the newest fetch of any ingest run (reading or failure), so that
    status and incidents depend on the data, not on when dbt happens to run. The newest of the
    raw tables' own column (fetched_at_tz), converted once: a max() of the converted fetched_at
    converted every row, 0.3 s at 1,000 plants for each of the dozen models that read the
    clock. A table, computed once a run: sixteen models read the clock, and on PostgreSQL each
    read through the staging views scanned the whole fetch-time index (0.5 s or more). -#}
{{ config(materialized='table') }}

with

fetches as (

    select max(fetched_at_tz) as fetched_at_tz from {{ ref('stg_plants_api__readings') }}
    union all
    select max(fetched_at_tz) as fetched_at_tz from {{ ref('stg_plants_api__fetch_failures') }}

),

final as (

    select {{ lnhm.to_utc_naive('max(fetched_at_tz)') }} as as_of_at
    from fetches

)

select * from final
