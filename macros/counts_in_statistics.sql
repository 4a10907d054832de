{#- The one rule for which readings and values enter statistics (averages, ranges, baselines,
    trends, incidents), over fct_readings' own columns. fct_readings computes its
    counts_in_statistics flags with these macros; every other model reads the flags.
    - counts_in_statistics: a reading with a recording time that is not a duplicate;
    - soil_moisture_ / temperature_counts_in_statistics: that, and the value present and
      plausible (moisture within 0-100 %, temperature within the plausible range). -#}
{% macro counts_in_statistics() -%}
    coalesce(recorded_at is not null and not is_duplicate, false)
{%- endmacro %}

{% macro soil_moisture_counts_in_statistics() -%}
    coalesce(
        recorded_at is not null
        and not is_duplicate
        and soil_moisture_pct is not null
        and not is_moisture_out_of_range,
        false
    )
{%- endmacro %}

{% macro temperature_counts_in_statistics() -%}
    coalesce(
        recorded_at is not null
        and not is_duplicate
        and temperature_c is not null
        and not is_temperature_implausible,
        false
    )
{%- endmacro %}

{#- backfill_statistics_flags(relation): fct_readings' post-hook. Rows written before the
    flags existed got them as null (on_schema_change appends columns); this sets them by the
    same rule. After the first run it matches no row. -#}
{% macro backfill_statistics_flags(relation) -%}
    update {{ relation }}
    set
        counts_in_statistics = {{ lnhm.counts_in_statistics() }},
        soil_moisture_counts_in_statistics = {{ lnhm.soil_moisture_counts_in_statistics() }},
        temperature_counts_in_statistics = {{ lnhm.temperature_counts_in_statistics() }}
    where counts_in_statistics is null
{%- endmacro %}
