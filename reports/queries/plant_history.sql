-- Longer history per plant: one row per day over every tier, with the baseline band and
-- waterings that day.
select
    daily.plant_id,
    daily.day,
    daily.readings,
    daily.flagged_readings,
    daily.avg_soil_moisture_pct,
    daily.min_soil_moisture_pct,
    daily.max_soil_moisture_pct,
    daily.avg_temperature_c,
    daily.min_temperature_c,
    daily.max_temperature_c,
    baselines.temperature_c_mean_7d,
    baselines.temperature_c_stddev_7d,
    baselines.soil_moisture_pct_mean_7d,
    baselines.soil_moisture_pct_stddev_7d,
    daily.waterings,
    daily.source
from daily
left join baselines on daily.plant_id = baselines.plant_id and daily.day = baselines.day
order by daily.plant_id, daily.day
