-- Archived failed requests: exactly the fetch_failures Parquet files manifest.json lists.

create or replace temp view archive_failures as
select
    plant_id,
    error_kind,
    run_id,
    make_timestamp(epoch_us(fetched_at)) as fetched_at,
    date '1970-01-01' + (epoch_us(fetched_at) // 86400000000)::integer as fetched_day
from read_parquet(getvariable('archive_failures_files'), union_by_name = true);
