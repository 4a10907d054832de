-- Every incident per plant, newest first.
select
    plant_id,
    anomaly_id,
    kind,
    started_at,
    ended_at,
    is_open,
    worst_value,
    readings
from anomalies
order by plant_id asc, started_at desc
