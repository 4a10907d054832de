{#- postgres_index(relation, columns): on PostgreSQL, the statement that creates a b-tree index
    on `columns` of `relation` when it has none of that name yet; nothing on DuckDB (its scans
    skip row groups by their min/max, and an index would only slow the inserts). For the
    incremental tables the scheduled build reads by fetch time or replaces by key: without them
    PostgreSQL scans the whole hot window to find one minute of rows (fct_readings' new rows and
    its delete by reading_id). The raw tables' fetch-time indexes are the ingest job's, whose
    role owns them (ingest/pipeline.py). dbt's own `indexes` config only acts when a table is
    created, and a long-lived incremental table never is again, so this runs as a post-hook.
    The catalog is read first, so that a run whose indexes exist takes no lock on the table
    (CREATE INDEX IF NOT EXISTS locks it before it finds the index). -#}
{% macro postgres_index(relation, columns) -%}
    {%- if target.type != 'postgres' or not execute or relation is none -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set name = (relation.identifier ~ '__' ~ columns | join('__'))[:63] -%}
    {%- set found = run_query(
        "select 1 from pg_indexes where schemaname = '" ~ relation.schema
        ~ "' and indexname = '" ~ name ~ "'") -%}
    {%- if found.rows | length == 0 -%}
        create index if not exists {{ adapter.quote(name) }} on {{ relation }} ({{ columns | join(', ') }})
    {%- endif -%}
{%- endmacro %}
