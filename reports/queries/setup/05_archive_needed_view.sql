-- The archived readings the per-reading pages read (see 04_archive_needed.sql).

create or replace temp view archive_readings as
select * from archive_rows(getvariable('archive_needed_files'));
