-- PostgreSQL roles for the LNHM warehouse: one login role per job, least privilege.
--
--   lnhm_loader       ingest (dlt): owns and writes `raw` (+ dlt's `raw_staging`); nothing else
--   lnhm_transformer  dbt: reads `raw`; owns and writes staging, intermediate, marts, seeds,
--                     snapshots
--   lnhm_reporter     reports: reads `marts` only
--   lnhm_alerter      alerts / ops-check: reads `marts` and `raw`; owns `alerts` (sent alerts)
--   lnhm_archiver     archive: reads and deletes (never inserts) in `raw`, `raw_staging` and
--                     the dbt schemas
--
-- Run as a superuser (or the RDS master user) in the warehouse database:
--   psql -v ON_ERROR_STOP=1 -d lnhm -f deploy/postgres/roles.sql
-- Idempotent: run it again after any change, or to repair grants. Default privileges cover the
-- tables each writer creates later (dlt's new tables, dbt's rebuilt ones). Passwords are not set
-- here (no secrets in the repository): ALTER ROLE lnhm_loader PASSWORD '...' from the secret
-- store, or use IAM authentication.

-- 1. Roles (cluster-wide): created once, never dropped here.
do $$
declare
    role_name text;
begin
    foreach role_name in array array[
        'lnhm_loader', 'lnhm_transformer', 'lnhm_reporter', 'lnhm_alerter', 'lnhm_archiver'
    ] loop
        if not exists (select 1 from pg_roles where rolname = role_name) then
            execute format(
                'create role %I login nosuperuser nocreatedb nocreaterole noreplication',
                role_name
            );
        end if;
        -- A non-superuser admin (RDS master) must be a member to hand schemas and default
        -- privileges to the role.
        if not (select rolsuper from pg_roles where rolname = current_user) then
            execute format('grant %I to %I', role_name, current_user);
        end if;
        execute format(
            'grant connect, temporary on database %I to %I', current_database(), role_name
        );
    end loop;
end
$$;

-- 2. Schemas and their owners. The owner may create, alter and drop tables in its schema, so
-- dlt (schema evolution) and dbt (table swaps) work; nobody else may create anything there.
create schema if not exists raw;
create schema if not exists raw_staging;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists marts;
create schema if not exists seeds;
create schema if not exists snapshots;
create schema if not exists alerts;

alter schema raw owner to lnhm_loader;
alter schema raw_staging owner to lnhm_loader;
alter schema staging owner to lnhm_transformer;
alter schema intermediate owner to lnhm_transformer;
alter schema marts owner to lnhm_transformer;
alter schema seeds owner to lnhm_transformer;
alter schema snapshots owner to lnhm_transformer;
alter schema alerts owner to lnhm_alerter;

revoke all on schema raw, raw_staging, staging, intermediate, marts, seeds, snapshots, alerts
from public;

-- Tables made before this script ran (e.g. by an admin) pass to the schema's owner.
do $$
declare
    rel record;
begin
    for rel in
        select c.relname, n.nspname, n.nspowner::regrole::text as owner_name,
            case c.relkind
                when 'v' then 'view' when 'm' then 'materialized view'
                when 'f' then 'foreign table' else 'table'
            end as kind
        from pg_class as c
        inner join pg_namespace as n on c.relnamespace = n.oid
        where n.nspname in (
            'raw', 'raw_staging', 'staging', 'intermediate', 'marts', 'seeds', 'snapshots',
            'alerts'
        )
            and c.relkind in ('r', 'p', 'v', 'm', 'f')
            and c.relowner <> n.nspowner
    loop
        execute format(
            'alter %s %I.%I owner to %s', rel.kind, rel.nspname, rel.relname, rel.owner_name
        );
    end loop;
end
$$;

-- 3. Readers of raw: transformer (dbt sources), alerter (ingest runs, freshness), archiver
-- (which also prunes archived keys from dlt's raw_staging copy of the last load).
grant usage on schema raw to lnhm_transformer, lnhm_alerter, lnhm_archiver;
grant select on all tables in schema raw to lnhm_transformer, lnhm_alerter;
grant usage on schema raw_staging to lnhm_archiver;
grant select, delete on all tables in schema raw, raw_staging to lnhm_archiver;
alter default privileges for role lnhm_loader in schema raw
grant select on tables to lnhm_transformer, lnhm_alerter;
alter default privileges for role lnhm_loader in schema raw, raw_staging
grant select, delete on tables to lnhm_archiver;

-- 4. Readers of marts: reporter and alerter (select), archiver (select, delete of aged rows).
grant usage on schema marts to lnhm_reporter, lnhm_alerter, lnhm_archiver;
grant select on all tables in schema marts to lnhm_reporter, lnhm_alerter;
alter default privileges for role lnhm_transformer in schema marts
grant select on tables to lnhm_reporter, lnhm_alerter;

-- 5. The archiver reads and prunes per-reading tables wherever dbt keeps them.
grant usage on schema staging, intermediate, marts to lnhm_archiver;
grant select, delete on all tables in schema staging, intermediate, marts to lnhm_archiver;
alter default privileges for role lnhm_transformer in schema staging, intermediate, marts
grant select, delete on tables to lnhm_archiver;
