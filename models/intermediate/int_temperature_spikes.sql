{#- One row per reading of the hot store whose temperature counts in statistics, saying whether
    it is a spike: a reading that fewer than half of its neighbours agree with. Its neighbours
    are the plant's other such readings recorded within temperature_spike_window_minutes (15)
    either side; one agrees when it is within temperature_spike_tolerance_c (0.5 C). A reading
    with fewer than temperature_spike_min_neighbours neighbours is never a spike (too little to
    judge). Random spikes (about 4 % of readings, real and simulated) disagree with nearly all
    their neighbours, three in a row too; a sustained change (a heating fault holding a plant
    +5 C for hours) is not a spike, because the readings inside it agree with each other (only
    its first or last reading can tip over, when a spike sits among its neighbours).
    The rule needs only the readings around each one, so a new reading changes the verdict of
    its neighbourhood alone; the verdict of the newest readings is provisional until their
    following minutes arrive. Neighbours are found through buckets of the window's width (a
    reading's own and the two beside it), an equality join both DuckDB and PostgreSQL hash,
    instead of a range join over all of a plant's readings. -#}
{#- Incremental: a run judges again only the readings within the window of a reading fetched
    since the last run (their neighbourhood is the only one a new reading enters), against all
    their neighbours, and replaces them by reading_id; the others keep their verdict. Every
    reader (plant_baselines, plant_daily_summary, the incident breaches, this model's tests)
    reads the table; as a view each of them judged every reading of the hot window again (at
    1,000 plants its three tests alone took 20 s of a 46 s build). A reading the archive pruned
    keeps its verdict here (its neighbours were all seen) until every hot reading is newer;
    the readers join from fct_readings, so such rows are never read. It reads the readings
    from two windows before the oldest one fetched since the last run on (the most a verdict
    can look back: macros/spike_oldest_read.sql). -#}
{{
    config(
        materialized='incremental',
        unique_key='reading_id',
        post_hook=[
            "delete from {{ this }} where recorded_at < (select min(recorded_at) from {{ ref('fct_readings') }})",
            "{{ lnhm.postgres_index(this, ['reading_id']) }}",
        ],
    )
}}
{%- set window_s = var('temperature_spike_window_minutes') * 60 %}
{#- read once: the readings bound and the changed probes both start from it -#}
{%- set fetched_since = lnhm.watermark('fetched_at') if is_incremental() else none %}

with

readings as (

    select
        reading_id,
        plant_id,
        recorded_at,
        fetched_at,
        temperature_c,
        {{ lnhm.epoch_seconds('recorded_at') }} as recorded_s,
        cast(floor({{ lnhm.epoch_seconds('recorded_at') }} / {{ window_s }}) as bigint) as bucket
    from {{ ref('fct_readings') }}
    where
        temperature_counts_in_statistics
        and recorded_at >= {{ lnhm.spike_oldest_read(window_s, fetched_since) }}

),

shifts as (

    select -1 as shift
    union all
    select 0 as shift
    union all
    select 1 as shift

),

{% if is_incremental() %}
    changed_probes as (

        -- the buckets around each reading fetched since the last run
        select
            changed.plant_id,
            changed.recorded_s,
            changed.bucket + shifts.shift as probed_bucket
        from readings as changed
        cross join shifts
        where changed.fetched_at >= {{ fetched_since }}

    ),
{% endif %}

judged as (

    {% if is_incremental() %}
        -- the readings within the window of one fetched since the last run (itself included)
        select distinct readings.*
        from readings
        inner join changed_probes
            on
                readings.plant_id = changed_probes.plant_id
                and readings.bucket = changed_probes.probed_bucket
                and abs(readings.recorded_s - changed_probes.recorded_s) <= {{ window_s }}
    {% else %}
        select * from readings
    {% endif %}

),

probes as (

    select
        judged.reading_id,
        judged.plant_id,
        judged.recorded_s,
        judged.temperature_c,
        judged.bucket + shifts.shift as probed_bucket
    from judged
    cross join shifts

),

neighbourhoods as (

    select
        probes.reading_id,
        cast(count(*) as bigint) as neighbours,
        cast(sum(
            case
                when abs(others.temperature_c - probes.temperature_c)
                    <= {{ var('temperature_spike_tolerance_c') }}
                    then 1
                else 0
            end
        ) as bigint) as agreeing_neighbours
    from probes
    inner join readings as others
        on
            probes.plant_id = others.plant_id
            and probes.probed_bucket = others.bucket
            and abs(others.recorded_s - probes.recorded_s) <= {{ window_s }}
            and probes.reading_id != others.reading_id
    group by probes.reading_id

),

final as (

    select
        judged.reading_id,
        judged.plant_id,
        judged.recorded_at,
        judged.fetched_at,
        judged.temperature_c,
        coalesce(neighbourhoods.neighbours, 0) as neighbours,
        coalesce(neighbourhoods.agreeing_neighbours, 0) as agreeing_neighbours,
        coalesce(
            neighbourhoods.neighbours >= {{ var('temperature_spike_min_neighbours') }}
            and 2 * neighbourhoods.agreeing_neighbours < neighbourhoods.neighbours,
            false
        ) as is_temperature_spike
    from judged
    left join neighbourhoods on judged.reading_id = neighbourhoods.reading_id

)

select * from final
