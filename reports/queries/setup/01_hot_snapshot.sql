-- One consistent snapshot of the hot store's marts, copied into this in-memory session.
-- The hot store is attached as catalog `hot` (DuckDB file read-only, or PostgreSQL); copying
-- once lets the reports read marts only (the PostgreSQL reporter role can) and lets the
-- caller detach quickly so the next writer is not kept waiting.

create or replace temp table hot_readings as
select
    plant_id,
    recorded_at,
    soil_moisture_pct,
    temperature_c,
    last_watered_at,
    fetched_at,
    run_id,
    is_moisture_out_of_range,
    is_temperature_implausible,
    is_duplicate,
    is_future,
    is_stale,
    has_missing_fields,
    is_flagged
from hot.marts.fct_readings;

create or replace temp table dim_plants as
select * from hot.marts.dim_plants;

create or replace temp table dim_botanists as
select * from hot.marts.dim_botanists;

create or replace temp table hot_waterings as
select
    plant_id,
    watered_at
from hot.marts.fct_waterings;

create or replace temp table plant_daily_summary as
select * from hot.marts.plant_daily_summary;

create or replace temp table plant_baselines as
select * from hot.marts.plant_baselines;

create or replace temp table plant_status as
select * from hot.marts.plant_status;

create or replace temp table anomalies as
select * from hot.marts.anomalies;

create or replace temp table hot_data_quality as
select * from hot.marts.data_quality;
