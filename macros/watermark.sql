{#- watermark(column, relation): the newest `column` already in `relation` (by default the
    incremental model being built), as a timestamp literal read when the model runs. An empty
    relation gives 1970-01-01, so that it takes every input row, as its first build did (a
    null, from max() over no rows, would select nothing ever again: an incremental model
    first built while the API was down would stay empty). Incremental models
    and the new-rows tests filter their inputs with it. A literal, not a `(select max(...))`
    subquery: DuckDB cannot push a subquery's value through a chain of views into the raw
    table's scan, so it computed the whole staged hot window (JSON parsing included) before
    filtering; with 1,000 plants int_plants_latest took 2.7 s instead of 0.27 s.
    `tz=true` gives the (naive UTC) value as a timestamp with time zone, to compare with a
    staged view's `fetched_at_tz`, the raw table's own column: DuckDB then skips the raw
    table's older row groups, where a filter on the converted `fetched_at` reads every row.
    A unit test has no table to query (its `this` is a fixture inside the test's query), so
    there the watermark stays the subquery.
    `watermark('as_of_at', ref('int_warehouse_clock'))` is the run's "now" as a literal, for a
    recent window of readings: joined from the one-row clock table, PostgreSQL planned the last
    90 minutes as a third of fct_readings and filtered a copy of all of it (int_plant_drying,
    1,000 plants).
    `column_may_be_new=true`: the column may not be in the table yet (a table built before the
    model became incremental; on_schema_change adds it after the model's query has run), and
    then the watermark is 1970, as for an empty table. -#}
{% macro watermark(column, relation=none, tz=false, column_may_be_new=false) -%}
    {%- set relation = relation if relation is not none else this -%}
    {%- if model.resource_type == 'unit_test' or not execute -%}
        {%- set newest = 'coalesce((select max(' ~ column ~ ') from ' ~ relation ~ '), '
            ~ "cast('1970-01-01' as timestamp))" -%}
        {{- return("(" ~ newest ~ " at time zone 'UTC')" if tz else newest) -}}
    {%- endif -%}
    {%- if column_may_be_new and column not in (
        adapter.get_columns_in_relation(relation) | map(attribute='name') | list) -%}
        {{- return(lnhm.timestamp_literal(modules.datetime.datetime(1970, 1, 1), tz)) -}}
    {%- endif -%}
    {%- set newest = run_query('select max(' ~ column ~ ') from ' ~ relation).columns[0].values()[0] -%}
    {{- lnhm.timestamp_literal(newest if newest is not none else modules.datetime.datetime(1970, 1, 1), tz) -}}
{%- endmacro %}

{#- timestamp_literal(value, tz): a (naive UTC) datetime read from the warehouse as a SQL
    literal: a timestamp, or with `tz=true` a timestamp with time zone. -#}
{% macro timestamp_literal(value, tz=false) -%}
    {%- set text = value.strftime('%Y-%m-%d %H:%M:%S.%f') -%}
    {%- if tz -%}
        cast('{{ text }}+00:00' as timestamp with time zone)
    {%- else -%}
        cast('{{ text }}' as timestamp)
    {%- endif -%}
{%- endmacro %}
