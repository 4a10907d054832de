{#- The seed failure_kinds as a mart: labels and severities of failed requests for the site, and
    which are expected answers (on loan, not found) rather than faults. -#}
with

kinds as (

    select * from {{ ref('failure_kinds') }}

),

final as (

    select
        cast(code as {{ dbt.type_string() }}) as code,
        cast(label as {{ dbt.type_string() }}) as label,
        cast(severity as {{ dbt.type_string() }}) as severity,
        cast(is_retryable as boolean) as is_retryable,
        cast(is_expected as boolean) as is_expected
    from kinds

)

select * from final
