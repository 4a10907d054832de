{#- Cleaning rules shared by the staging models. Each is pinned by a unit test. -#}

{#- clean_plant_name: the API's name with only what is noise removed: curly quotes made straight,
    runs of spaces made one, stray trailing punctuation ("Dragon tree,") dropped. The case the API
    gave is kept ("Rafflesia arnoldii", "Bird of Paradise"), except that a name the scientific name
    spells (equal to it, or its first words: "Euphorbia Cotinifolia" for "Euphorbia cotinifolia")
    takes the scientific name's case, and a name with no capital at all gets one at its start. -#}
{% macro clean_plant_name(expr, scientific_expr) -%}
    {%- set cleaned -%}
        trim({{ lnhm.regex_replace_all(
            lnhm.regex_replace_all(
                "replace(replace(replace(replace(" ~ expr ~ ", '‘', ''''), '’', ''''), '“', '\"'), '”', '\"')",
                '\\s+', ' '),
            '[\\s,.;:!/-]+$', '') }})
    {%- endset -%}
    {%- set scientific -%}
        replace(replace(trim({{ scientific_expr }}), '‘', ''''), '’', '''')
    {%- endset -%}
    case
        when lower({{ scientific }}) = lower({{ cleaned }})
            or left(lower({{ scientific }}), length({{ cleaned }}) + 1) = lower({{ cleaned }}) || ' '
            then left({{ scientific }}, length({{ cleaned }}))
        when {{ cleaned }} = lower({{ cleaned }})
            then upper(left({{ cleaned }}, 1)) || substr({{ cleaned }}, 2)
        else {{ cleaned }}
    end
{%- endmacro %}

{#- phone_digits / phone_extension: the digits before the first letter, and the digits after
    it ("x127", "ext. 127"); the original text is kept beside them. -#}
{% macro phone_digits(expr) -%}
    nullif({{ lnhm.regex_replace_all(lnhm.regex_replace_all(expr, '[A-Za-z].*$', ''), '[^0-9]', '') }}, '')
{%- endmacro %}

{% macro phone_extension(expr) -%}
    case
        when {{ lnhm.regex_matches(expr, '[A-Za-z]') }}
            then nullif({{ lnhm.regex_replace_all(lnhm.regex_replace_all(expr, '^[^A-Za-z]*', ''), '[^0-9]', '') }}, '')
    end
{%- endmacro %}

{#- is_valid_email: local@domain.tld, no empty dot-separated parts (so "ms..diana" is invalid). -#}
{% macro is_valid_email(expr) -%}
    coalesce({{ lnhm.regex_matches(expr, '^[A-Za-z0-9_%+-]+([.][A-Za-z0-9_%+-]+)*@[A-Za-z0-9-]+([.][A-Za-z0-9-]+)*[.][A-Za-z]{2,}$') }}, false)
{%- endmacro %}

{#- safe_to_double: a number from text, or null when the text is not a plain decimal number. -#}
{% macro safe_to_double(expr) -%}
    case
        when {{ lnhm.regex_matches('trim(' ~ expr ~ ')', '^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$') }}
            then cast(trim({{ expr }}) as double precision)
    end
{%- endmacro %}
