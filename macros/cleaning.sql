{#- Cleaning rules shared by the staging models. Each is pinned by a unit test. -#}

{#- clean_plant_name: trim, straight quotes for curly ones, no stray trailing punctuation,
    single spaces, and Title Case (small words "of", "and", "the" lower case after the first
    word; a word opening with a quote gets its first letter upper-cased). -#}
{% macro clean_plant_name(expr) -%}
    {%- set straightened -%}
        trim({{ lnhm.regex_replace_all(
            lnhm.regex_replace_all(
                "replace(replace(replace(replace(" ~ expr ~ ", '‘', ''''), '’', ''''), '“', '\"'), '”', '\"')",
                '\\s+', ' '),
            '[\\s,.;:!/-]+$', '') }})
    {%- endset -%}
    {{ return(adapter.dispatch('title_case_words', 'lnhm')('lower(' ~ straightened ~ ')')) }}
{%- endmacro %}

{% macro title_case_word(w) -%}
    case
        when {{ w }} in ('of', 'and', 'the') then {{ w }}
        when substr({{ w }}, 1, 1) in ('''', '"', '(')
            then substr({{ w }}, 1, 1) || upper(substr({{ w }}, 2, 1)) || substr({{ w }}, 3)
        else upper(substr({{ w }}, 1, 1)) || substr({{ w }}, 2)
    end
{%- endmacro %}

{% macro default__title_case_words(expr) -%}
    (
        select
            upper(substr(string_agg({{ lnhm.title_case_word('w.word') }}, ' ' order by w.ord), 1, 1))
            || substr(string_agg({{ lnhm.title_case_word('w.word') }}, ' ' order by w.ord), 2)
        from unnest(string_to_array({{ expr }}, ' ')) with ordinality as w (word, ord)
    )
{%- endmacro %}

{% macro duckdb__title_case_words(expr) -%}
    {%- set titled -%}
        array_to_string(
            list_transform(string_split({{ expr }}, ' '), lambda word: {{ lnhm.title_case_word('word') }}),
            ' '
        )
    {%- endset -%}
    (upper(substr({{ titled }}, 1, 1)) || substr({{ titled }}, 2))
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
