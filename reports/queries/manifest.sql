-- manifest.json, read by DuckDB itself (a local file or s3:// through httpfs). It is the only
-- list of archived files readers may read: a partition becomes visible when its entry is written.
-- A missing manifest reads as no rows (no archive yet). The site shows its entries as they are
-- (the archive page); archived days' figures come from the long-lived marts, not from Parquet.

create or replace temp table manifest_days as
with

manifest as (
    select content::json as doc
    from read_text(getvariable('manifest_url'))
),

entries as (
    select
        days.key as day_key,
        days.value as entry
    from manifest
    cross join json_each(manifest.doc -> 'days') as days
)

select
    day_key::date as day,
    coalesce(entry ->> 'label', strftime(day_key::date, '%a %d %b %Y')) as label,
    coalesce((entry ->> 'readings')::bigint, 0) as readings,
    coalesce((entry ->> 'readings_bytes')::bigint, 0) as readings_bytes,
    coalesce((entry ->> 'fetch_failures')::bigint, 0) as fetch_failures,
    coalesce((entry ->> 'fetch_failures_bytes')::bigint, 0) as fetch_failures_bytes,
    (entry ->> 'archived_at')::timestamptz as archived_at,
    coalesce((entry -> 'files')::varchar[], []) as files
from entries;
