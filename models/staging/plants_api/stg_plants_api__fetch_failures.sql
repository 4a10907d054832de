with

source as (

    select * from {{ source('plants_api', 'plant_fetch_failures') }}

),

renamed as (

    select
        run_id || '|' || cast(plant_id as {{ dbt.type_string() }}) as fetch_failure_id,
        cast(plant_id as bigint) as plant_id,
        cast(http_status as bigint) as http_status,
        error_kind,
        error_message,
        body_excerpt,
        cast(attempts as bigint) as attempts,
        {{ lnhm.to_utc_naive('fetched_at') }} as fetched_at,
        fetched_at as fetched_at_tz,
        run_id
    from source

)

select * from renamed
