{#- The seed incident_kinds as a mart: the labels, severities and units the site and the
    e-mails show for fct_incidents.kind. -#}
with

kinds as (

    select * from {{ ref('incident_kinds') }}

),

final as (

    select
        cast(code as {{ dbt.type_string() }}) as code,
        cast(label as {{ dbt.type_string() }}) as label,
        cast(severity as {{ dbt.type_string() }}) as severity,
        cast(audience as {{ dbt.type_string() }}) as audience,
        cast(advice as {{ dbt.type_string() }}) as advice,
        cast(worst_value_label as {{ dbt.type_string() }}) as worst_value_label,
        cast(coalesce(worst_value_unit, '') as {{ dbt.type_string() }}) as worst_value_unit,
        cast(worst_value_digits as integer) as worst_value_digits
    from kinds

)

select * from final
