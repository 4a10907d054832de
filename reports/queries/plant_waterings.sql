-- Watering events per plant over the 48 hours up to the newest reading (hot store and the
-- archived days read reading by reading), each flagged if it is within the last 24 hours.
select
    waterings.plant_id,
    waterings.watered_at,
    waterings.watered_at > clock.as_of_at - interval 24 hours as is_last_24h
from waterings
cross join report_clock as clock
where
    waterings.watered_at > clock.as_of_at - interval 48 hours
    and waterings.watered_at <= clock.as_of_at
order by waterings.plant_id, waterings.watered_at
