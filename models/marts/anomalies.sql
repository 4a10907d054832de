{#- The incidents of plants under the name the first reports used: a copy of fct_incidents'
    rows (anomaly_id is its stable incident_id; a table, not a view: a DuckDB view names its
    catalog, which a reader that attaches the file under another name cannot resolve). New readers
    use fct_incidents. -#}

with

incidents as (

    select * from {{ ref('fct_incidents') }}

),

final as (

    select
        incident_id as anomaly_id,
        plant_id,
        kind,
        started_at,
        ended_at,
        is_open,
        worst_value,
        readings
    from incidents
    where plant_id is not null

)

select * from final
