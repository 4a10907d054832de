{#- regex_matches(expr, pattern): true when the POSIX/RE2 `pattern` matches anywhere in `expr`.
    Write patterns with classes like [0-9] so they mean the same on every engine. -#}
{% macro regex_matches(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'lnhm')(expr, pattern)) }}
{%- endmacro %}

{% macro default__regex_matches(expr, pattern) -%}
    ({{ expr }} ~ '{{ pattern }}')
{%- endmacro %}

{% macro duckdb__regex_matches(expr, pattern) -%}
    regexp_matches({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{#- regex_replace_all(expr, pattern, replacement): replace every match. -#}
{% macro regex_replace_all(expr, pattern, replacement) -%}
    {{ return(adapter.dispatch('regex_replace_all', 'lnhm')(expr, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regex_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{#- regex_case_insensitive_matches(expr, pattern) -#}
{% macro regex_imatches(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_imatches', 'lnhm')(expr, pattern)) }}
{%- endmacro %}

{% macro default__regex_imatches(expr, pattern) -%}
    ({{ expr }} ~* '{{ pattern }}')
{%- endmacro %}

{% macro duckdb__regex_imatches(expr, pattern) -%}
    regexp_matches({{ expr }}, '{{ pattern }}', 'i')
{%- endmacro %}

{#- regex_isplit_part(expr, pattern, n): the n-th (1-based) piece of `expr` split on a
    case-insensitive regex (only n = 1 and n = 2 are needed here). -#}
{% macro regex_isplit_part(expr, pattern, n) -%}
    {{ return(adapter.dispatch('regex_isplit_part', 'lnhm')(expr, pattern, n)) }}
{%- endmacro %}

{% macro default__regex_isplit_part(expr, pattern, n) -%}
    (regexp_split_to_array({{ expr }}, '{{ pattern }}', 'i'))[{{ n }}]
{%- endmacro %}

{% macro duckdb__regex_isplit_part(expr, pattern, n) -%}
    (string_split_regex({{ expr }}, '(?i){{ pattern }}'))[{{ n }}]
{%- endmacro %}
