{#- incident_breaches_since(): where int_incident_breaches starts reading this run, as literals
    read when the model runs: {'recorded_at': naive timestamp, 'fetched_at_tz': timestamptz},
    none for either when it reads everything (a first build, a unit test, no incidents
    recorded yet by this code); incident_breaches_filter(since, 'readings' | 'attempts') is the
    condition to read by.
    int_incident_watermark holds the clock of the last run whose incidents fct_incidents
    recorded (it is built after fct_incidents and its tests, so a run that failed there does not
    move it). What fct_incidents has not seen is what was fetched since; the rules' verdicts
    change only around that:
    - readings: from the oldest recording among the readings fetched since. A temperature
      spike's verdict moves up to two spike windows before it (macros/spike_oldest_read.sql);
      an episode the new readings extend or join that is not yet an incident has fewer than
      anomaly_min_consecutive_readings breaches, each within missing_after_minutes of the
      next, and one more observation before it says where it starts. So it reads from two
      spike windows plus (anomaly_min_consecutive_readings + 1) x missing_after_minutes
      before that recording. A longer episode is already an incident, which fct_incidents
      continues from its last_seen_at, as it does when the archive has pruned its start.
    - fetch attempts (sensor faults): from (sensor_fault_min_consecutive + 1) x
      missing_after_minutes before that clock.
    A baseline changes (plant_baselines) with a summary day that got new readings, or the day
    before one just after midnight, so the readings it judges are read already.
    Nothing fetched since: the readings from the newest recording on, with the same context. -#}
{% macro incident_breaches_since() -%}
    {%- set everything = {'recorded_at': none, 'fetched_at_tz': none} -%}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{- return(everything) -}}
    {%- endif -%}
    {#- not a ref: the watermark is built after fct_incidents, which reads this model -#}
    {%- set watermark = adapter.get_relation(
        database=this.database, schema=this.schema, identifier='int_incident_watermark') -%}
    {%- if watermark is none -%}
        {{- return(everything) -}}
    {%- endif -%}
    {%- set as_of = run_query(
        'select max(as_of_at) from ' ~ watermark).columns[0].values()[0] -%}
    {%- if as_of is none -%}
        {{- return(everything) -}}
    {%- endif -%}
    {%- set oldest = run_query(
        'select min(recorded_at) from ' ~ ref('fct_readings')
        ~ ' where counts_in_statistics and fetched_at >= '
        ~ lnhm.timestamp_literal(as_of)).columns[0].values()[0] -%}
    {%- if oldest is none -%}
        {%- set oldest = run_query(
            'select max(recorded_at) from ' ~ ref('fct_readings')
            ~ ' where counts_in_statistics').columns[0].values()[0] -%}
    {%- endif -%}
    {%- set minutes = modules.datetime.timedelta(minutes=1) -%}
    {%- set missing = var('missing_after_minutes') -%}
    {%- set readings_context = 2 * var('temperature_spike_window_minutes')
        + (var('anomaly_min_consecutive_readings') + 1) * missing -%}
    {%- set attempts_context = (var('sensor_fault_min_consecutive') + 1) * missing -%}
    {{- return({
        'recorded_at': lnhm.timestamp_literal(oldest - readings_context * minutes)
            if oldest is not none else none,
        'fetched_at_tz': lnhm.timestamp_literal(as_of - attempts_context * minutes, tz=true),
    }) -}}
{%- endmacro %}

{% macro incident_breaches_filter(since, series) -%}
    {%- if series == 'readings' and since['recorded_at'] -%}
        recorded_at >= {{ since['recorded_at'] }}
    {%- elif series == 'attempts' and since['fetched_at_tz'] -%}
        fetched_at_tz >= {{ since['fetched_at_tz'] }}
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}
