{#- The seed failure_kinds as a mart: labels and severities of failed requests for the site. -#}
with

kinds as (

    select * from {{ ref('failure_kinds') }}

),

final as (

    select
        cast(code as {{ dbt.type_string() }}) as code,
        cast(label as {{ dbt.type_string() }}) as label,
        cast(severity as {{ dbt.type_string() }}) as severity,
        cast(is_retryable as boolean) as is_retryable
    from kinds

)

select * from final
