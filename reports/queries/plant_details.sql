-- Everything a plant page says about the plant itself: names, origin, botanist, image, status.
with totals as (
    select
        plant_id,
        sum(readings) as readings_on_record,
        min(day) as first_recorded_at
    from daily
    group by plant_id
)

select
    plants.plant_id,
    plants.plant_name,
    dim.plant_name_original,
    plants.scientific_name,
    dim.origin_city,
    dim.origin_country_code,
    dim.origin_country_name,
    dim.origin_continent,
    dim.origin_latitude,
    dim.origin_longitude,
    plants.botanist_id,
    plants.botanist_name,
    plants.botanist_email,
    dim.image_url,
    dim.image_license_name,
    dim.first_seen_at,
    coalesce(status.status, 'missing') as status,
    status.latest_recorded_at,
    status.minutes_since_reading,
    status.soil_moisture_pct,
    status.temperature_c,
    status.last_watered_at,
    status.hours_since_watered,
    status.moisture_trend_pct_per_hour,
    coalesce(status.is_missing, status.plant_id is null) as is_missing,
    coalesce(status.is_on_loan, false) as is_on_loan,
    coalesce(status.is_sensor_faulting, false) as is_sensor_faulting,
    totals.readings_on_record,
    totals.first_recorded_at
from report_plants as plants
left join dim_plants as dim on plants.plant_id = dim.plant_id
left join plant_status as status on plants.plant_id = status.plant_id
left join totals on plants.plant_id = totals.plant_id
order by plants.plant_id
