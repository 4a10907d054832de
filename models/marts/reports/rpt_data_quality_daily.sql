{#- The data-quality page: the long-lived data_quality mart (per day and ingest run, every
    reason, archived days too) summed per UTC day of the fetch. -#}
{%- set counts = [
    'readings_received', 'readings_flagged', 'flagged_moisture_out_of_range',
    'flagged_temperature_implausible', 'flagged_duplicate', 'flagged_future', 'flagged_stale',
    'flagged_missing_fields', 'failed_requests', 'failed_not_found', 'failed_on_loan',
    'failed_sensor_fault', 'failed_server_error', 'failed_timeout', 'failed_connection_error',
    'failed_invalid_body'] -%}
with

quality as (

    select * from {{ ref('data_quality') }}

),

final as (

    select
        {% for column in counts %}
            cast(sum({{ column }}) as bigint) as {{ column }},
        {% endfor %}
        day
    from quality
    group by day

)

select * from final
