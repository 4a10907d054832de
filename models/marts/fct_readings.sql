{#- Cleaned readings of the hot store (about the last 24 hours; the archive job prunes older
    whole UTC days here and in raw). Incremental: each run takes the raw rows fetched since the
    newest fetch already here (a max() watermark) and replaces them by reading_id, so a rerun
    changes nothing and pruned rows are never brought back. A reading is a duplicate when an
    earlier-fetched row (new, or already here) has the same plant and recording time. -#}
{{
    config(
        materialized='incremental',
        unique_key='reading_id',
        post_hook=[
            "{{ lnhm.backfill_statistics_flags(this) }}",
            "{{ lnhm.postgres_index(this, ['reading_id']) }}",
            "{{ lnhm.postgres_index(this, ['plant_id', 'recorded_at']) }}",
            "{{ lnhm.postgres_index(this, ['fetched_at']) }}",
        ],
    )
}}

with

new_readings as (

    select * from {{ ref('int_readings_flagged') }}
    {% if is_incremental() %}
        where fetched_at_tz >= {{ lnhm.watermark('fetched_at', tz=true) }}
    {% endif %}

),

kept_readings as (

    -- rows already here (not being replaced) that share a plant and recording time with a new
    -- one: the context the duplicate flag needs (nothing, in a full build)
    select
        kept.reading_id,
        kept.plant_id,
        kept.recorded_at,
        kept.fetched_at
    {% if is_incremental() %}
        from {{ this }} as kept
        inner join new_readings
            on kept.plant_id = new_readings.plant_id and kept.recorded_at = new_readings.recorded_at
        where kept.reading_id not in (select batch.reading_id from new_readings as batch)
    {% else %}
        from new_readings as kept
        where 1 = 0
    {% endif %}

),

candidates as (

    select
        reading_id,
        plant_id,
        recorded_at,
        fetched_at
    from new_readings
    where recorded_at is not null
    union all
    select
        reading_id,
        plant_id,
        recorded_at,
        fetched_at
    from kept_readings

),

ranked as (

    select
        reading_id,
        row_number() over (
            partition by plant_id, recorded_at order by fetched_at, reading_id
        ) as fetch_rank
    from candidates

),

flagged as (

    select
        new_readings.*,
        coalesce(ranked.fetch_rank > 1, false) as is_duplicate
    from new_readings
    left join ranked on new_readings.reading_id = ranked.reading_id

),

final as (

    select
        reading_id,
        plant_id,
        recorded_at,
        soil_moisture_pct,
        temperature_c,
        last_watered_at,
        fetched_at,
        run_id,
        is_moisture_out_of_range,
        is_temperature_implausible,
        is_duplicate,
        is_future,
        is_stale,
        has_missing_fields,
        has_reading_issue or is_duplicate as is_flagged,
        -- which readings and values enter statistics: the one rule (macros/counts_in_statistics.sql)
        {{ lnhm.counts_in_statistics() }} as counts_in_statistics,
        {{ lnhm.soil_moisture_counts_in_statistics() }} as soil_moisture_counts_in_statistics,
        {{ lnhm.temperature_counts_in_statistics() }} as temperature_counts_in_statistics,
        recording_taken_original,
        api_shape
    from flagged

)

select * from final
