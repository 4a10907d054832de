{#- One row per plant ever read: its latest descriptive attributes and when it was first and
    last seen. Incremental and kept when the hot store is pruned, so the dimensions keep every
    plant. -#}
{{
    config(
        materialized='incremental',
        unique_key='plant_id',
    )
}}

with

new_readings as (

    select * from {{ ref('int_readings_flagged') }}
    {% if is_incremental() %}
        where fetched_at_tz >= {{ lnhm.watermark('last_fetched_at', tz=true) }}
    {% endif %}

),

ranked as (

    {#- Every reading counts, an unparseable recording time too (flagged has_missing_fields in
        int_readings_flagged): a plant whose times are all unreadable is still a plant, so the
        marts that refer to dim_plants keep their relationships and one bad plant cannot stop
        plant_status for the others. Readings with a known time rank first. -#}

    select
        readings.*,
        row_number() over (
            partition by readings.plant_id
            order by
                readings.recorded_at desc nulls last,
                readings.fetched_at desc,
                readings.reading_id desc
        ) as recency_rank
    from new_readings as readings

),

seen as (

    select
        plant_id,
        min(recorded_at) as first_seen_at,
        max(recorded_at) as last_seen_at,
        max(fetched_at) as last_fetched_at
    from new_readings
    group by plant_id

),

latest as (

    select
        ranked.plant_id,
        ranked.plant_name,
        ranked.plant_name_original,
        ranked.scientific_name,
        ranked.origin_city,
        ranked.origin_country_original,
        ranked.origin_latitude,
        ranked.origin_longitude,
        ranked.origin_timezone,
        ranked.botanist_id,
        ranked.botanist_name,
        ranked.botanist_email,
        ranked.image_url,
        ranked.image_license_name,
        ranked.api_shape,
        seen.first_seen_at,
        seen.last_seen_at,
        seen.last_fetched_at
    from ranked
    inner join seen on ranked.plant_id = seen.plant_id
    where ranked.recency_rank = 1

),

final as (

    {% if is_incremental() %}
        select
            latest.plant_id,
            latest.plant_name,
            latest.plant_name_original,
            coalesce(latest.scientific_name, existing.scientific_name) as scientific_name,
            latest.origin_city,
            latest.origin_country_original,
            latest.origin_latitude,
            latest.origin_longitude,
            coalesce(latest.origin_timezone, existing.origin_timezone) as origin_timezone,
            latest.botanist_id,
            latest.botanist_name,
            latest.botanist_email,
            coalesce(latest.image_url, existing.image_url) as image_url,
            coalesce(latest.image_license_name, existing.image_license_name) as image_license_name,
            latest.api_shape,
            case
                when existing.first_seen_at < latest.first_seen_at then existing.first_seen_at
                else latest.first_seen_at
            end as first_seen_at,
            case
                when existing.last_seen_at > latest.last_seen_at then existing.last_seen_at
                else latest.last_seen_at
            end as last_seen_at,
            latest.last_fetched_at
        from latest
        left join {{ this }} as existing on latest.plant_id = existing.plant_id
    {% else %}
        select * from latest
    {% endif %}

)

select * from final
