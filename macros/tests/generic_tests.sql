{#- Generic data tests (dbt_utils is not reachable from here, so the few we need live here). -#}

{#- expression_is_true: every row satisfies `expression` (rows where it is false fail). -#}
{% test expression_is_true(model, expression, where_clause=none) %}
select *
from {{ model }}
where not ({{ expression }})
{%- if where_clause %} and ({{ where_clause }}){% endif %}
{% endtest %}

{#- accepted_range: column between min_value and max_value (nulls pass). -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
select *
from {{ model }}
where {{ column_name }} is not null
    and (
        1 = 0
        {%- if min_value is not none %}
        or {{ column_name }} {{ '<' if inclusive else '<=' }} {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
        or {{ column_name }} {{ '>' if inclusive else '>=' }} {{ max_value }}
        {%- endif %}
    )
{% endtest %}

{#- unique_combination_of_columns: the listed columns together identify a row. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select
    {{ combination_of_columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}

{#- at_least_one_row: the model is not empty. -#}
{% test at_least_one_row(model) %}
select 1 as no_rows
from (select count(*) as n_rows from {{ model }}) as counted
where counted.n_rows = 0
{% endtest %}

{#- relationships_multi: every row's `columns` exist together in `to` (a composite foreign key). -#}
{% test relationships_multi(model, to, columns) %}
select child.*
from {{ model }} as child
where not exists (
    select 1
    from {{ to }} as parent
    where
        {% for c in columns %}
            child.{{ c }} = parent.{{ c }}{{ ' and' if not loop.last }}
        {% endfor %}
)
{% endtest %}
