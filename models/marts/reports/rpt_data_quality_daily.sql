{#- The data-quality page: the long-lived data_quality mart (per day and ingest run, every
    reason, archived days too) summed per UTC day of the fetch, and the failed requests split
    into expected answers (on loan, not found) and faults by the seed failure_kinds'
    is_expected (dim_failure_kinds; a code the seed does not know counts as a fault). -#}
{%- set counts = [
    'readings_received', 'readings_flagged', 'flagged_moisture_out_of_range',
    'flagged_temperature_implausible', 'flagged_duplicate', 'flagged_future', 'flagged_stale',
    'flagged_missing_fields', 'failed_requests', 'failed_not_found', 'failed_on_loan',
    'failed_sensor_fault', 'failed_server_error', 'failed_timeout', 'failed_connection_error',
    'failed_invalid_body'] -%}
{%- set error_kinds = [] -%}
{%- for column in counts if column.startswith('failed_') and column != 'failed_requests' -%}
    {%- do error_kinds.append(column[7:]) -%}
{%- endfor -%}
with

quality as (

    select * from {{ ref('data_quality') }}

),

kinds as (

    select * from {{ ref('dim_failure_kinds') }}

),

daily as (

    select
        {% for column in counts %}
            cast(sum({{ column }}) as bigint) as {{ column }},
        {% endfor %}
        day
    from quality
    group by day

),

failures_by_kind as (

    {% for kind in error_kinds %}
        select
            day,
            '{{ kind }}' as code,
            failed_{{ kind }} as failed
        from daily
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

split as (

    select
        failures_by_kind.day,
        cast(
            sum(case when kinds.is_expected then failures_by_kind.failed else 0 end) as bigint
        ) as expected_failures,
        cast(
            sum(case when kinds.is_expected then 0 else failures_by_kind.failed end) as bigint
        ) as fault_failures
    from failures_by_kind
    left join kinds on failures_by_kind.code = kinds.code
    group by failures_by_kind.day

),

final as (

    select
        daily.*,
        split.expected_failures,
        split.fault_failures
    from daily
    inner join split on daily.day = split.day

)

select * from final
