{#- warehouse_clock(): the run's "now" (int_warehouse_clock.as_of_at) as a timestamp literal
    read when the model runs, for a filter on a recent window of readings. Joined from the
    one-row table, the bound is unknown when PostgreSQL plans: it estimated a third of
    fct_readings for the last 90 minutes, materialised the whole table and filtered its 2.8 M
    rows by the join (1,000 plants x 48 h); with a literal it filters the table as it scans it,
    and DuckDB skips the older row groups. In a unit test (and at parse time) it is the clock's
    subquery. -#}
{% macro warehouse_clock() -%}
    {%- set clock = ref('int_warehouse_clock') -%}
    {%- if model.resource_type == 'unit_test' or not execute -%}
        {{- return('(select as_of_at from ' ~ clock ~ ')') -}}
    {%- endif -%}
    {%- set now = run_query('select as_of_at from ' ~ clock).columns[0].values()[0] -%}
    {{- return(lnhm.timestamp_literal(now) if now is not none else 'cast(null as timestamp)') -}}
{%- endmacro %}
