{#- Per UTC day (of the fetch) and ingest run: readings received and flagged by reason, and
    failed requests by reason. Long-lived (full_refresh: false): each run recomputes only the
    ingest runs with rows fetched since the last build, so the counts of archived days stay.
    It reads the rows fetched from an hour before the last build's newest fetch, not the whole
    hot window: a run fetches its rows within one poll, so a changed run's rows are all there
    (the slack the new-rows tests allow too). Each input is bounded once, in its own CTE:
    PostgreSQL materialises a CTE read twice, and read every hot reading to join them by run. -#}
{{
    config(
        materialized='incremental',
        unique_key=['day', 'run_id'],
        full_refresh=false,
    )
}}
{%- set reading_flags = [
    'is_moisture_out_of_range', 'is_temperature_implausible', 'is_duplicate', 'is_future',
    'is_stale', 'has_missing_fields'] -%}
{%- set error_kinds = [
    'not_found', 'on_loan', 'sensor_fault', 'server_error', 'timeout', 'connection_error',
    'invalid_body'] -%}
{%- if is_incremental() -%}
    {%- set watermark_at = lnhm.watermark('last_fetched_at') -%}
{%- endif -%}

with

all_readings as (

    select * from {{ ref('fct_readings') }}
    {% if is_incremental() %}
        where fetched_at >= {{ lnhm.subtract_hours(watermark_at, 1) }}
    {% endif %}

),

all_failures as (

    select * from {{ ref('stg_plants_api__fetch_failures') }}
    {% if is_incremental() %}
        where fetched_at >= {{ lnhm.subtract_hours(watermark_at, 1) }}
    {% endif %}

),

all_runs as (

    select * from {{ ref('stg_plants_api__ingest_runs') }}

),

changed_runs as (

    -- a full build takes every run; an incremental run those with rows fetched since the last
    select all_readings.run_id from all_readings
    {% if is_incremental() %}
        where all_readings.fetched_at >= {{ watermark_at }}
    {% endif %}
    union
    select all_failures.run_id from all_failures
    {% if is_incremental() %}
        where all_failures.fetched_at >= {{ watermark_at }}
    {% endif %}
    union
    select all_runs.run_id from all_runs
    {% if is_incremental() %}
        where all_runs.finished_at >= {{ watermark_at }}
    {% endif %}

),

readings as (

    select all_readings.*
    from all_readings
    inner join changed_runs on all_readings.run_id = changed_runs.run_id

),

failures as (

    select all_failures.*
    from all_failures
    inner join changed_runs on all_failures.run_id = changed_runs.run_id

),

runs as (

    select all_runs.*
    from all_runs
    inner join changed_runs on all_runs.run_id = changed_runs.run_id

),

reading_counts as (

    select
        run_id,
        cast(fetched_at as date) as day,
        count(*) as readings_received,
        sum(case when is_flagged then 1 else 0 end) as readings_flagged,
        {% for flag in reading_flags %}
            sum(case when {{ flag }} then 1 else 0 end)
                as flagged_{{ flag | replace('is_', '', 1) | replace('has_', '', 1) }},
        {% endfor %}
        max(fetched_at) as last_fetched_at
    from readings
    group by run_id, cast(fetched_at as date)

),

failure_counts as (

    select
        run_id,
        cast(fetched_at as date) as day,
        count(*) as failed_requests,
        {% for kind in error_kinds %}
            sum(case when error_kind = '{{ kind }}' then 1 else 0 end) as failed_{{ kind }},
        {% endfor %}
        max(fetched_at) as last_fetched_at
    from failures
    group by run_id, cast(fetched_at as date)

),

run_days as (

    select
        day,
        run_id
    from reading_counts
    union
    select
        day,
        run_id
    from failure_counts
    union
    select
        cast(started_at as date) as day,
        run_id
    from runs
    where
        run_id not in (select reading_counts.run_id from reading_counts)
        and run_id not in (select failure_counts.run_id from failure_counts)

),

final as (

    select
        run_days.day,
        run_days.run_id,
        cast(coalesce(reading_counts.readings_received, 0) as bigint) as readings_received,
        cast(coalesce(reading_counts.readings_flagged, 0) as bigint) as readings_flagged,
        {% for flag in reading_flags %}
            {%- set column = 'flagged_' ~ (flag | replace('is_', '', 1) | replace('has_', '', 1)) %}
            cast(coalesce(reading_counts.{{ column }}, 0) as bigint) as {{ column }},
        {% endfor %}
        cast(coalesce(failure_counts.failed_requests, 0) as bigint) as failed_requests,
        {% for kind in error_kinds %}
            cast(coalesce(failure_counts.failed_{{ kind }}, 0) as bigint) as failed_{{ kind }},
        {% endfor %}
        greatest(
            coalesce(reading_counts.last_fetched_at, failure_counts.last_fetched_at, runs.finished_at),
            coalesce(failure_counts.last_fetched_at, reading_counts.last_fetched_at, runs.finished_at)
        ) as last_fetched_at
    from run_days
    left join reading_counts
        on run_days.day = reading_counts.day and run_days.run_id = reading_counts.run_id
    left join failure_counts
        on run_days.day = failure_counts.day and run_days.run_id = failure_counts.run_id
    left join runs on run_days.run_id = runs.run_id

)

select * from final
