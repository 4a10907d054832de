{#- One row per botanist ever seen (identified by e-mail, or by name when there is none), with
    the latest details sent for them. Incremental and kept when the hot store is pruned. -#}
{{
    config(
        materialized='incremental',
        unique_key='botanist_id',
    )
}}

with

new_readings as (

    select * from {{ ref('int_readings_flagged') }}
    {% if is_incremental() %}
        where fetched_at_tz >= {{ lnhm.watermark('last_fetched_at', tz=true) }}
    {% endif %}

),

readings as (

    select * from new_readings
    where
        botanist_id is not null

),

ranked as (

    select
        readings.*,
        row_number() over (
            partition by readings.botanist_id
            order by readings.fetched_at desc, readings.reading_id desc
        ) as recency_rank
    from readings

),

final as (

    select
        botanist_id,
        botanist_name,
        botanist_email,
        is_botanist_email_valid as is_email_valid,
        botanist_phone_digits as phone_digits,
        botanist_phone_extension as phone_extension,
        botanist_phone_original as phone_original,
        fetched_at as last_fetched_at
    from ranked
    where recency_rank = 1

)

select * from final
