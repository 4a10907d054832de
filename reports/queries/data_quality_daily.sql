-- Data quality per day: failed requests and flagged readings by reason, over every tier.
-- The hot mart data_quality has one row per (fetch day, ingest run); archived rows are counted
-- from the archive's Parquet, except runs the mart still has (a day in both tiers while an
-- archive run is between write and prune). Archived rows are told apart by run only on days
-- the mart has; other days are counted whole (hashing a year of run ids would be slow).
with

hot as (
    select
        day,
        run_id,
        readings_received,
        readings_flagged,
        flagged_moisture_out_of_range,
        flagged_temperature_implausible,
        flagged_duplicate,
        flagged_future,
        flagged_stale,
        flagged_missing_fields,
        failed_requests,
        failed_not_found,
        failed_on_loan,
        failed_sensor_fault,
        failed_server_error,
        failed_timeout,
        failed_connection_error,
        failed_invalid_body
    from hot_data_quality
),

hot_from as (
    select min(day) as first_day from hot
),

archived_readings as (
    select
        archived.fetched_day as day,
        case when archived.fetched_day >= hot_from.first_day then archived.run_id end as run_id,
        count(*) as readings_received,
        count(*) filter (where is_flagged) as readings_flagged,
        count(*) filter (where is_moisture_out_of_range) as flagged_moisture_out_of_range,
        count(*) filter (where is_temperature_implausible) as flagged_temperature_implausible,
        count(*) filter (where is_duplicate) as flagged_duplicate,
        count(*) filter (where is_future) as flagged_future,
        count(*) filter (where is_stale) as flagged_stale,
        count(*) filter (where has_missing_fields) as flagged_missing_fields
    from archive_readings_all as archived
    cross join hot_from
    group by all
),

archived_failures as (
    select
        archived.fetched_day as day,
        case when archived.fetched_day >= hot_from.first_day then archived.run_id end as run_id,
        count(*) as failed_requests,
        count(*) filter (where error_kind = 'not_found') as failed_not_found,
        count(*) filter (where error_kind = 'on_loan') as failed_on_loan,
        count(*) filter (where error_kind = 'sensor_fault') as failed_sensor_fault,
        count(*) filter (where error_kind = 'server_error') as failed_server_error,
        count(*) filter (where error_kind = 'timeout') as failed_timeout,
        count(*) filter (where error_kind = 'connection_error') as failed_connection_error,
        count(*) filter (where error_kind = 'invalid_body') as failed_invalid_body
    from archive_failures as archived
    cross join hot_from
    group by all
),

archived as (
    select
        coalesce(r.day, f.day) as day,
        coalesce(r.run_id, f.run_id) as run_id,
        coalesce(r.readings_received, 0) as readings_received,
        coalesce(r.readings_flagged, 0) as readings_flagged,
        coalesce(r.flagged_moisture_out_of_range, 0) as flagged_moisture_out_of_range,
        coalesce(r.flagged_temperature_implausible, 0) as flagged_temperature_implausible,
        coalesce(r.flagged_duplicate, 0) as flagged_duplicate,
        coalesce(r.flagged_future, 0) as flagged_future,
        coalesce(r.flagged_stale, 0) as flagged_stale,
        coalesce(r.flagged_missing_fields, 0) as flagged_missing_fields,
        coalesce(f.failed_requests, 0) as failed_requests,
        coalesce(f.failed_not_found, 0) as failed_not_found,
        coalesce(f.failed_on_loan, 0) as failed_on_loan,
        coalesce(f.failed_sensor_fault, 0) as failed_sensor_fault,
        coalesce(f.failed_server_error, 0) as failed_server_error,
        coalesce(f.failed_timeout, 0) as failed_timeout,
        coalesce(f.failed_connection_error, 0) as failed_connection_error,
        coalesce(f.failed_invalid_body, 0) as failed_invalid_body
    from archived_readings as r
    full outer join archived_failures as f
        on r.day = f.day and r.run_id is not distinct from f.run_id
),

runs as (
    select
        *,
        'hot' as tier
    from hot
    union all
    select
        archived.*,
        'archive' as tier
    from archived
    anti join hot on archived.day = hot.day and archived.run_id = hot.run_id
)

select
    day,
    strftime(day, '%a %d %b %Y') as label,
    sum(readings_received) as readings_received,
    sum(readings_flagged) as readings_flagged,
    sum(flagged_moisture_out_of_range) as flagged_moisture_out_of_range,
    sum(flagged_temperature_implausible) as flagged_temperature_implausible,
    sum(flagged_duplicate) as flagged_duplicate,
    sum(flagged_future) as flagged_future,
    sum(flagged_stale) as flagged_stale,
    sum(flagged_missing_fields) as flagged_missing_fields,
    sum(failed_requests) as failed_requests,
    sum(failed_not_found) as failed_not_found,
    sum(failed_on_loan) as failed_on_loan,
    sum(failed_sensor_fault) as failed_sensor_fault,
    sum(failed_server_error) as failed_server_error,
    sum(failed_timeout) as failed_timeout,
    sum(failed_connection_error) as failed_connection_error,
    sum(failed_invalid_body) as failed_invalid_body,
    string_agg(distinct tier, ', ' order by tier) as tiers
from runs
group by day
order by day desc
