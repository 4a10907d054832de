-- The archive page: every archived day from manifest.json, newest first.
select
    day,
    label,
    readings,
    readings_bytes,
    fetch_failures,
    fetch_failures_bytes,
    archived_at,
    len(files) as files
from manifest_days
order by day desc
