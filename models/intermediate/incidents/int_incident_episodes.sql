{#- Every incident episode the hot store (and the long-lived fct_waterings) shows now, one row
    per plant, kind and start, before fct_incidents matches it with the incidents it already
    holds. An episode whose first observation was pruned by the archive starts here at the
    oldest observation still held (is_at_hot_start), so fct_incidents keeps its own start.
    Kinds (seed incident_kinds):
    - the reading-based kinds of int_incident_breaches (readings = breaching observations;
      min_readings: how many make an incident, anomaly_min_consecutive_readings or
      sensor_fault_min_consecutive); one ends at the next observation that does not breach,
      or, when a gap of more than missing_after_minutes follows its last breach (the data
      stopped: a no_reading incident, or feed_down), at that last breach, as soon as the gap
      is that long; a breach after the gap is a new episode;
    - no_reading: no reading for more than missing_after_minutes (starts at the last reading);
    - not_watered: no watering for more than not_watered_after_hours (starts that many hours
      after the last watering, ends at the next one);
    - feed_down: no reading from any plant for more than missing_after_minutes (plant_id null).
    ended_at is null while the episode is open at the warehouse clock (the newest fetch). -#}
{#- The gaps (no_reading, feed_down) are looked for only where this run can change them: in
    the readings int_incident_breaches reads (macros/incident_breaches_since.sql: from before
    the oldest recording fetched since the incidents were last recorded), each plant's latest
    reading before those (where a gap into them starts) and the feed's. A gap that ended
    before was seen, ended, by an earlier run, and fct_incidents keeps it; one still open
    starts at the plant's latest reading, which is always read. lead() over every hot reading
    took 2.5 s of fct_incidents on PostgreSQL at 1,000 plants x 48 h. A first build reads
    everything. -#}
{%- set since = lnhm.incident_breaches_since() %}
with

breaches as (

    select * from {{ ref('int_incident_breaches') }}

),

readings as not materialized (

    -- read four times, each by its own filter: PostgreSQL reads fct_readings itself each time
    -- rather than a copy of every hot reading
    select * from {{ ref('fct_readings') }}
    where counts_in_statistics

),

waterings as (

    select * from {{ ref('fct_waterings') }}

),

clock as (

    select * from {{ ref('int_warehouse_clock') }}

),

breach_rows as (

    -- each breaching observation with its episode's figures: one window pass, no self-join
    -- (PostgreSQL estimated a rank filter at a few rows and joined the episodes pairwise)
    select
        plant_id,
        kind,
        episode_started_at,
        observed_at,
        next_observed_at,
        is_at_hot_start,
        count(*) over (partition by plant_id, kind, episode_started_at) as readings,
        -- the worst observation: farthest from its threshold, the earliest of equals
        first_value(observed_value) over (
            partition by plant_id, kind, episode_started_at
            order by abs(observed_value - threshold) desc, observed_at asc
        ) as worst_value,
        first_value(threshold) over (
            partition by plant_id, kind, episode_started_at
            order by abs(observed_value - threshold) desc, observed_at asc
        ) as worst_threshold,
        max(case when is_at_hot_start then 1 else 0 end) over (
            partition by plant_id, kind, episode_started_at
        ) = 1 as is_episode_at_hot_start,
        row_number() over (
            partition by plant_id, kind, episode_started_at order by observed_at desc
        ) as recency_rank
    from breaches

),

last_breaches as (

    -- one row per episode: its last breaching observation
    select * from breach_rows
    where recency_rank = 1

),

reading_episodes as (

    select
        last_breaches.plant_id,
        last_breaches.kind,
        last_breaches.episode_started_at as started_at,
        -- a gap of more than missing_after_minutes after the last breach (to the next
        -- observation, or to now while it lasts) ends the episode at that breach: the data
        -- stopped, we did not see it end, and the no_reading incident covers the gap
        case
            when {{ lnhm.minutes_between(
                'last_breaches.observed_at',
                'coalesce(last_breaches.next_observed_at, clock.as_of_at)') }}
                > {{ var('missing_after_minutes') }}
                then last_breaches.observed_at
            else last_breaches.next_observed_at
        end as ended_at,
        last_breaches.observed_at as last_seen_at,
        case
            when last_breaches.kind = 'sensor_faults'
                then cast(last_breaches.readings as double precision)
            else last_breaches.worst_value
        end as worst_value,
        last_breaches.worst_threshold as threshold,
        cast(last_breaches.readings as bigint) as readings,
        case
            when last_breaches.kind = 'sensor_faults'
                then {{ var('sensor_fault_min_consecutive') }}
            else {{ var('anomaly_min_consecutive_readings') }}
        end as min_readings,
        last_breaches.is_episode_at_hot_start as is_at_hot_start
    from last_breaches
    cross join clock

),

gap_readings as (

    select
        plant_id,
        recorded_at
    from readings
    where {{ lnhm.incident_breaches_filter(since, 'readings') }}

    union all

    -- each plant's latest reading before those (none in a first build, which reads them all)
    select
        plant_id,
        max(recorded_at) as recorded_at
    from readings
    where not ({{ lnhm.incident_breaches_filter(since, 'readings') }})
    group by plant_id

),

reading_gaps as (

    select
        plant_id,
        recorded_at,
        lead(recorded_at) over (partition by plant_id order by recorded_at) as next_recorded_at
    from gap_readings

),

no_reading_episodes as (

    select
        reading_gaps.plant_id,
        'no_reading' as kind,
        reading_gaps.recorded_at as started_at,
        reading_gaps.next_recorded_at as ended_at,
        coalesce(reading_gaps.next_recorded_at, clock.as_of_at) as last_seen_at,
        {{ lnhm.minutes_between(
            'reading_gaps.recorded_at',
            'coalesce(reading_gaps.next_recorded_at, clock.as_of_at)') }} as worst_value,
        cast({{ var('missing_after_minutes') }} as double precision) as threshold,
        cast(0 as bigint) as readings,
        0 as min_readings,
        false as is_at_hot_start
    from reading_gaps
    cross join clock
    where
        {{ lnhm.minutes_between(
            'reading_gaps.recorded_at',
            'coalesce(reading_gaps.next_recorded_at, clock.as_of_at)') }}
        > {{ var('missing_after_minutes') }}

),

watering_gaps as (

    select
        plant_id,
        watered_at,
        lead(watered_at) over (partition by plant_id order by watered_at) as next_watered_at
    from waterings

),

not_watered_episodes as (

    select
        watering_gaps.plant_id,
        'not_watered' as kind,
        {{ lnhm.add_minutes('watering_gaps.watered_at', var('not_watered_after_hours') ~ ' * 60') }}
            as started_at,
        watering_gaps.next_watered_at as ended_at,
        coalesce(watering_gaps.next_watered_at, clock.as_of_at) as last_seen_at,
        {{ lnhm.minutes_between(
            'watering_gaps.watered_at',
            'coalesce(watering_gaps.next_watered_at, clock.as_of_at)') }} / 60.0 as worst_value,
        cast({{ var('not_watered_after_hours') }} as double precision) as threshold,
        cast(0 as bigint) as readings,
        0 as min_readings,
        false as is_at_hot_start
    from watering_gaps
    cross join clock
    where
        {{ lnhm.minutes_between(
            'watering_gaps.watered_at',
            'coalesce(watering_gaps.next_watered_at, clock.as_of_at)') }}
        > {{ var('not_watered_after_hours') }} * 60

),

feed_times as (

    select distinct recorded_at from readings
    where {{ lnhm.incident_breaches_filter(since, 'readings') }}

    union

    select max(recorded_at) as recorded_at from readings
    where not ({{ lnhm.incident_breaches_filter(since, 'readings') }})
    having count(*) > 0

),

feed_gaps as (

    select
        recorded_at,
        lead(recorded_at) over (order by recorded_at) as next_recorded_at
    from feed_times

),

feed_down_episodes as (

    select
        cast(null as bigint) as plant_id,
        'feed_down' as kind,
        feed_gaps.recorded_at as started_at,
        feed_gaps.next_recorded_at as ended_at,
        coalesce(feed_gaps.next_recorded_at, clock.as_of_at) as last_seen_at,
        {{ lnhm.minutes_between(
            'feed_gaps.recorded_at',
            'coalesce(feed_gaps.next_recorded_at, clock.as_of_at)') }} as worst_value,
        cast({{ var('missing_after_minutes') }} as double precision) as threshold,
        cast(0 as bigint) as readings,
        0 as min_readings,
        false as is_at_hot_start
    from feed_gaps
    cross join clock
    where
        {{ lnhm.minutes_between(
            'feed_gaps.recorded_at',
            'coalesce(feed_gaps.next_recorded_at, clock.as_of_at)') }}
        > {{ var('missing_after_minutes') }}

),

episodes as (

    select * from reading_episodes
    union all
    select * from no_reading_episodes
    union all
    select * from not_watered_episodes
    union all
    select * from feed_down_episodes

),

final as (

    select
        cast(plant_id as bigint) as plant_id,
        cast(kind as {{ dbt.type_string() }}) as kind,
        started_at,
        ended_at,
        last_seen_at,
        cast(worst_value as double precision) as worst_value,
        cast(threshold as double precision) as threshold,
        cast(readings as bigint) as readings,
        cast(min_readings as bigint) as min_readings,
        is_at_hot_start
    from episodes

)

select * from final
