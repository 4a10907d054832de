{#- stable_bigint_id(expr): a deterministic positive bigint from text (the first 60 bits of its
    md5), identical on every engine, for surrogate keys such as botanist_id. -#}
{% macro stable_bigint_id(expr) -%}
    {{ return(adapter.dispatch('stable_bigint_id', 'lnhm')(expr)) }}
{%- endmacro %}

{% macro default__stable_bigint_id(expr) -%}
    cast(cast(('x' || lpad(substr(md5({{ expr }}), 1, 15), 16, '0')) as bit(64)) as bigint)
{%- endmacro %}

{% macro duckdb__stable_bigint_id(expr) -%}
    cast(('0x' || substr(md5({{ expr }}), 1, 15)) as bigint)
{%- endmacro %}
