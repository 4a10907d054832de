-- Overview: every plant's state at a glance, the most urgent first.
with

open_incidents as (
    select
        plant_id,
        count(*) as open_incidents,
        string_agg(distinct kind, ', ' order by kind) as open_kinds
    from anomalies
    where is_open
    group by plant_id
)

select
    plants.plant_id,
    plants.plant_name,
    plants.botanist_id,
    plants.botanist_name,
    coalesce(status.status, 'missing') as status,
    status.soil_moisture_pct,
    status.temperature_c,
    status.hours_since_watered,
    status.minutes_since_reading,
    status.latest_recorded_at,
    status.moisture_trend_pct_per_hour,
    coalesce(status.is_missing, status.plant_id is null) as is_missing,
    coalesce(status.is_on_loan, false) as is_on_loan,
    coalesce(status.is_sensor_faulting, false) as is_sensor_faulting,
    coalesce(open_incidents.open_incidents, 0) as open_incidents,
    open_incidents.open_kinds
from report_plants as plants
left join plant_status as status on plants.plant_id = status.plant_id
left join open_incidents on plants.plant_id = open_incidents.plant_id
order by
    case coalesce(status.status, 'missing')
        when 'critical' then 0
        when 'sensor_fault' then 1
        when 'missing' then 2
        when 'warning' then 3
        when 'on_loan' then 4
        else 5
    end,
    plants.plant_id
