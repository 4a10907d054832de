-- Open incidents (anomalies not yet ended), newest first, with whom to tell.
select
    anomalies.anomaly_id,
    anomalies.plant_id,
    plants.plant_name,
    plants.botanist_id,
    plants.botanist_name,
    anomalies.kind,
    anomalies.started_at,
    anomalies.worst_value,
    anomalies.readings,
    date_diff('minute', anomalies.started_at, clock.as_of_at) / 60.0 as open_hours
from anomalies
inner join report_plants as plants on anomalies.plant_id = plants.plant_id
cross join report_clock as clock
where anomalies.is_open
order by anomalies.started_at desc, anomalies.plant_id asc
