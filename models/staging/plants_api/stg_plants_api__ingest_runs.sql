with

source as (

    select * from {{ source('plants_api', 'ingest_runs') }}

),

renamed as (

    select
        run_id,
        {{ lnhm.to_utc_naive('started_at') }} as started_at,
        {{ lnhm.to_utc_naive('finished_at') }} as finished_at,
        cast(plants_polled as bigint) as plants_polled,
        cast(readings as bigint) as readings_count,
        cast(failures as bigint) as failures_count,
        outcome
    from source

)

select * from renamed
