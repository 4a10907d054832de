{#- One row per plant the site shows (every plant of dim_plants, plant_status or the long-lived
    plant_daily_summary): names, origin, botanist, photo, status, latest values, and readings on
    record over every tier (plant_daily_summary counts archived days too). Whether the latest
    values ("Now") count in statistics, and if not why, in words: the 24-hour figures leave a
    flagged value out, and the plant page says so beside it. -#}
with

plants as (

    select * from {{ ref('dim_plants') }}

),

status as (

    select * from {{ ref('plant_status') }}

),

summary as (

    select * from {{ ref('plant_daily_summary') }}

),

latest_reading as (

    -- the reading plant_status takes the latest values from: the newest recorded
    -- non-duplicate one (exactly one per plant and recording time)
    select
        readings.plant_id,
        readings.soil_moisture_counts_in_statistics,
        readings.temperature_counts_in_statistics,
        case
            when readings.soil_moisture_pct < 0
                then 'below the sensor''s range (0-100 %)'
            when readings.soil_moisture_pct > 100
                then 'above the sensor''s range (0-100 %)'
        end as soil_moisture_flag_reason,
        case
            when readings.is_temperature_implausible
                then 'outside the plausible range ({{ var('temperature_plausible_min_c') }} to {{
                    var('temperature_plausible_max_c') }} °C)'
        end as temperature_flag_reason
    from {{ ref('fct_readings') }} as readings
    inner join status
        on
            readings.plant_id = status.plant_id
            and readings.recorded_at = status.latest_recorded_at
    where readings.counts_in_statistics

),

totals as (

    select
        plant_id,
        cast(sum(readings) as bigint) as readings_on_record,
        min(day) as first_recorded_day
    from summary
    group by plant_id

),

ids as (

    select plant_id from plants
    union
    select plant_id from status
    union
    select plant_id from totals

),

final as (

    select
        ids.plant_id,
        coalesce(plants.plant_name, status.plant_name) as plant_name,
        plants.plant_name_original,
        plants.scientific_name,
        plants.origin_city,
        plants.origin_country_code,
        plants.origin_country_name,
        plants.origin_continent,
        plants.origin_latitude,
        plants.origin_longitude,
        coalesce(plants.botanist_id, status.botanist_id) as botanist_id,
        coalesce(plants.botanist_name, status.botanist_name) as botanist_name,
        coalesce(plants.botanist_email, status.botanist_email) as botanist_email,
        plants.image_url,
        plants.image_license_name,
        plants.first_seen_at,
        coalesce(status.status, 'missing') as status,
        case coalesce(status.status, 'missing')
            when 'critical' then 0
            when 'sensor_fault' then 1
            when 'missing' then 2
            when 'warning' then 3
            when 'on_loan' then 4
            else 5
        end as urgency,
        status.latest_recorded_at,
        status.minutes_since_reading,
        status.soil_moisture_pct,
        status.temperature_c,
        latest_reading.soil_moisture_counts_in_statistics as is_soil_moisture_in_statistics,
        latest_reading.temperature_counts_in_statistics as is_temperature_in_statistics,
        latest_reading.soil_moisture_flag_reason,
        latest_reading.temperature_flag_reason,
        status.last_watered_at,
        status.hours_since_watered,
        status.moisture_trend_pct_per_hour,
        status.dry_expected_at,
        coalesce(status.is_missing, status.plant_id is null) as is_missing,
        status.missing_since_at,
        coalesce(status.latest_answer_outcome = 'not_found', false) as is_not_found,
        coalesce(status.is_on_loan, false) as is_on_loan,
        coalesce(status.is_sensor_faulting, false) as is_sensor_faulting,
        coalesce(status.open_incidents, 0) as open_incidents,
        coalesce(totals.readings_on_record, 0) as readings_on_record,
        totals.first_recorded_day
    from ids
    left join plants on ids.plant_id = plants.plant_id
    left join status on ids.plant_id = status.plant_id
    left join totals on ids.plant_id = totals.plant_id
    left join latest_reading on ids.plant_id = latest_reading.plant_id

)

select * from final
