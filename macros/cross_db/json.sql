{#- json_get_text(expr, path): the text at `path` (a list of keys and/or integer indexes) inside
    the JSON text `expr`, or null when the path does not exist.
    e.g. json_get_text('origin_location', [0]), json_get_text('payload', ['botanist', 'name']) -#}
{% macro json_get_text(expr, path) -%}
    {{ return(adapter.dispatch('json_get_text', 'lnhm')(expr, path)) }}
{%- endmacro %}

{% macro default__json_get_text(expr, path) -%}
    {%- set parts = [] -%}
    {%- for p in path -%}
        {%- do parts.append(p | string) -%}
    {%- endfor -%}
    (cast({{ expr }} as json) #>> '{{ "{" ~ parts | join(",") ~ "}" }}')
{%- endmacro %}

{% macro duckdb__json_get_text(expr, path) -%}
    {%- set ns = namespace(p='$') -%}
    {%- for p in path -%}
        {%- if p is number -%}
            {%- set ns.p = ns.p ~ '[' ~ p ~ ']' -%}
        {%- else -%}
            {%- set ns.p = ns.p ~ '."' ~ p ~ '"' -%}
        {%- endif -%}
    {%- endfor -%}
    json_extract_string({{ expr }}, '{{ ns.p }}')
{%- endmacro %}
