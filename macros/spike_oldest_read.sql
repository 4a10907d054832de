{#- spike_oldest_read(window_s, fetched_since): int_temperature_spikes' lower bound on the
    readings a run reads, as a timestamp literal read when the model runs. Two windows before
    the oldest recording among the readings fetched since the last run (`fetched_since`, the
    model's watermark): a judged reading lies within one window of such a reading, its
    neighbours within one more.
    Without it PostgreSQL materialized and sorted every hot reading (the model's readings CTE
    is read three times) to judge a few minutes of them: 8-15 s of a 1,000-plant build, 0.35 s
    with it. A first build and a unit test (no table to query) read every reading (from 1970). -#}
{% macro spike_oldest_read(window_s, fetched_since) -%}
    {%- set every_reading = "cast('1970-01-01 00:00:00' as timestamp)" -%}
    {%- if not is_incremental() or not execute or model.resource_type == 'unit_test' -%}
        {{- return(every_reading) -}}
    {%- endif -%}
    {%- set oldest = run_query(
        'select min(recorded_at) from ' ~ ref('fct_readings')
        ~ ' where temperature_counts_in_statistics and fetched_at >= '
        ~ fetched_since).columns[0].values()[0] -%}
    {%- if oldest is none -%}
        {#- nothing fetched since the last run: nothing to judge, read only the newest -#}
        {%- set oldest = run_query('select max(recorded_at) from ' ~ this).columns[0].values()[0] -%}
    {%- endif -%}
    {%- if oldest is none -%}
        {{- return(every_reading) -}}
    {%- endif -%}
    {%- set since = oldest - modules.datetime.timedelta(seconds=2 * window_s) -%}
    {{- lnhm.timestamp_literal(since) -}}
{%- endmacro %}
