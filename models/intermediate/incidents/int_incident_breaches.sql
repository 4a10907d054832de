{#- One row per reading (or fetch attempt) of the hot store that breaks an incident rule and
    belongs to a run of breaches: the members of the reading-based incident episodes.
    - moisture_low / moisture_high / temperature_low / temperature_high: a reading outside the
      plant's care thresholds (seed care_thresholds: a default row plus per-plant rows);
    - baseline_deviation: a temperature beyond the plant's 7-day baseline of the previous day
      by more than baseline_deviation_stddevs standard deviations;
    - sensor_faults: a "plant sensor fault" answer.
    The temperature kinds leave out temperature spikes (int_temperature_spikes): random spikes,
    three in a row included, are no incident and do not interrupt one.
    A run (episode) is a maximal series of consecutive breaching observations of one plant and
    kind with no gap of more than missing_after_minutes between two of them (a longer gap ends
    the run: the data stopped, and a breach after it starts a new run); episode_started_at
    names it. next_observed_at is the first later observation of the same series, breaching or
    not (the one that ends the episode when it does not breach and comes within
    missing_after_minutes; int_incident_episodes ends an episode followed by a longer gap at its
    last breaching observation). -#}
{#- A run reads only the observations near what was fetched since the incidents were last
    recorded (macros/incident_breaches_since.sql: from about 70 minutes before the oldest new
    recording, and 40 before that run's clock for the fetch attempts), not the whole hot
    window: older observations judge the same as they did then, and fct_incidents already holds
    what they showed. An episode whose start lies before what was read starts at the oldest
    observation read (is_at_hot_start), as one whose start the archive pruned does, and
    fct_incidents continues the incident it belongs to. A first build reads everything.
    A table, not a view: fct_incidents reads it directly and through int_incident_episodes. -#}
{{ config(materialized='table') }}
{%- set since = lnhm.incident_breaches_since() %}

with

readings as (

    select * from {{ ref('fct_readings') }}
    where
        counts_in_statistics
        and {{ lnhm.incident_breaches_filter(since, 'readings') }}

),

thresholds as (

    select * from {{ ref('care_thresholds') }}

),

baselines as (

    select * from {{ ref('plant_baselines') }}

),

spikes as (

    select * from {{ ref('int_temperature_spikes') }}
    where is_temperature_spike

),

attempts as (

    select * from {{ ref('int_fetch_attempts') }}
    where {{ lnhm.incident_breaches_filter(since, 'attempts') }}

),

reading_plants as (

    select distinct plant_id from readings

),

default_thresholds as (

    select * from thresholds
    where plant_id is null

),

plant_thresholds as (

    select
        plants.plant_id,
        coalesce(own.soil_moisture_pct_min, dflt.soil_moisture_pct_min) as soil_moisture_pct_min,
        coalesce(own.soil_moisture_pct_max, dflt.soil_moisture_pct_max) as soil_moisture_pct_max,
        coalesce(own.temperature_c_min, dflt.temperature_c_min) as temperature_c_min,
        coalesce(own.temperature_c_max, dflt.temperature_c_max) as temperature_c_max
    from reading_plants as plants
    left join thresholds as own on plants.plant_id = own.plant_id
    cross join default_thresholds as dflt

),

evaluated as (

    select
        readings.plant_id,
        readings.recorded_at,
        readings.soil_moisture_pct,
        readings.temperature_c,
        readings.soil_moisture_counts_in_statistics,
        readings.temperature_counts_in_statistics,
        spikes.reading_id is not null as is_temperature_spike,
        plant_thresholds.soil_moisture_pct_min,
        plant_thresholds.soil_moisture_pct_max,
        plant_thresholds.temperature_c_min,
        plant_thresholds.temperature_c_max,
        baselines.temperature_c_mean_7d,
        baselines.temperature_c_stddev_7d,
        baselines.temperature_c_readings_7d
    from readings
    inner join plant_thresholds on readings.plant_id = plant_thresholds.plant_id
    left join spikes on readings.reading_id = spikes.reading_id
    left join baselines
        on
            readings.plant_id = baselines.plant_id
            and baselines.day = {{ lnhm.add_days('cast(readings.recorded_at as date)', -1) }}

),

-- One window pass per series of observations, each carrying the breach flags of its kinds:
-- moisture readings (moisture_low, moisture_high), spike-free temperature readings
-- (temperature_low, temperature_high), those with a usable baseline (baseline_deviation), and
-- fetch attempts (sensor_faults). A series is ordered once, not once per kind: as one series
-- per kind the whole hot window was sorted five times over (14.5 M rows at 1,000 plants).
moisture_series as (

    select
        plant_id,
        recorded_at as observed_at,
        soil_moisture_pct as observed_value,
        soil_moisture_pct_min,
        soil_moisture_pct_max,
        soil_moisture_pct < soil_moisture_pct_min as is_low,
        soil_moisture_pct > soil_moisture_pct_max as is_high,
        lag(recorded_at) over (partition by plant_id order by recorded_at)
            as previous_observed_at,
        lag(soil_moisture_pct < soil_moisture_pct_min)
            over (partition by plant_id order by recorded_at)
            as previous_is_low,
        lag(soil_moisture_pct > soil_moisture_pct_max)
            over (partition by plant_id order by recorded_at)
            as previous_is_high,
        lead(recorded_at) over (partition by plant_id order by recorded_at) as next_observed_at,
        min(recorded_at) over (partition by plant_id) as first_observed_at
    from evaluated
    where soil_moisture_pct is not null

),

temperature_series as (

    select
        plant_id,
        recorded_at as observed_at,
        temperature_c as observed_value,
        temperature_c_min,
        temperature_c_max,
        temperature_c < temperature_c_min as is_low,
        temperature_c > temperature_c_max as is_high,
        lag(recorded_at) over (partition by plant_id order by recorded_at)
            as previous_observed_at,
        lag(temperature_c < temperature_c_min)
            over (partition by plant_id order by recorded_at)
            as previous_is_low,
        lag(temperature_c > temperature_c_max)
            over (partition by plant_id order by recorded_at)
            as previous_is_high,
        lead(recorded_at) over (partition by plant_id order by recorded_at) as next_observed_at,
        min(recorded_at) over (partition by plant_id) as first_observed_at
    from evaluated
    where temperature_counts_in_statistics and not is_temperature_spike

),

baseline_checks as (

    -- the threshold is the edge of the baseline band on the side the temperature lies
    select
        plant_id,
        recorded_at as observed_at,
        temperature_c as observed_value,
        case
            when temperature_c >= temperature_c_mean_7d
                then temperature_c_mean_7d
                    + {{ var('baseline_deviation_stddevs') }} * temperature_c_stddev_7d
            else
                temperature_c_mean_7d
                - {{ var('baseline_deviation_stddevs') }} * temperature_c_stddev_7d
        end as threshold,
        abs(temperature_c - temperature_c_mean_7d)
        > {{ var('baseline_deviation_stddevs') }} * temperature_c_stddev_7d as is_breach
    from evaluated
    where
        temperature_counts_in_statistics
        and not is_temperature_spike
        and temperature_c_stddev_7d > 0
        and temperature_c_readings_7d >= {{ var('baseline_min_readings') }}

),

baseline_series as (

    select
        baseline_checks.*,
        lag(observed_at) over (partition by plant_id order by observed_at)
            as previous_observed_at,
        lag(is_breach) over (partition by plant_id order by observed_at) as previous_is_breach,
        lead(observed_at) over (partition by plant_id order by observed_at) as next_observed_at,
        min(observed_at) over (partition by plant_id) as first_observed_at
    from baseline_checks

),

fault_series as (

    select
        plant_id,
        fetched_at as observed_at,
        outcome = 'sensor_fault' as is_breach,
        lag(fetched_at) over (partition by plant_id order by fetched_at)
            as previous_observed_at,
        lag(outcome = 'sensor_fault') over (partition by plant_id order by fetched_at)
            as previous_is_breach,
        lead(fetched_at) over (partition by plant_id order by fetched_at) as next_observed_at,
        min(fetched_at) over (partition by plant_id) as first_observed_at
    from attempts

),

breaching as (

    -- the breaching observations of every kind, each with its series' neighbours
    select
        plant_id,
        'moisture_low' as kind,
        observed_at,
        observed_value,
        soil_moisture_pct_min as threshold,
        previous_observed_at,
        previous_is_low as previous_is_breach,
        next_observed_at,
        first_observed_at
    from moisture_series
    where is_low

    union all

    select
        plant_id,
        'moisture_high' as kind,
        observed_at,
        observed_value,
        soil_moisture_pct_max as threshold,
        previous_observed_at,
        previous_is_high as previous_is_breach,
        next_observed_at,
        first_observed_at
    from moisture_series
    where is_high

    union all

    select
        plant_id,
        'temperature_low' as kind,
        observed_at,
        observed_value,
        temperature_c_min as threshold,
        previous_observed_at,
        previous_is_low as previous_is_breach,
        next_observed_at,
        first_observed_at
    from temperature_series
    where is_low

    union all

    select
        plant_id,
        'temperature_high' as kind,
        observed_at,
        observed_value,
        temperature_c_max as threshold,
        previous_observed_at,
        previous_is_high as previous_is_breach,
        next_observed_at,
        first_observed_at
    from temperature_series
    where is_high

    union all

    select
        plant_id,
        'baseline_deviation' as kind,
        observed_at,
        observed_value,
        threshold,
        previous_observed_at,
        previous_is_breach,
        next_observed_at,
        first_observed_at
    from baseline_series
    where is_breach

    union all

    select
        plant_id,
        'sensor_faults' as kind,
        observed_at,
        cast(null as double precision) as observed_value,
        cast({{ var('sensor_fault_min_consecutive') }} as double precision) as threshold,
        previous_observed_at,
        previous_is_breach,
        next_observed_at,
        first_observed_at
    from fault_series
    where is_breach

),

runs as (

    -- a breach starts a run at the series' first observation, after an observation that does
    -- not breach, and after a gap of more than missing_after_minutes (the same rule as a
    -- no_reading incident). Numbering the runs over the breaching rows alone is the same as
    -- over the whole series, and a fraction of the work.
    select
        breaching.*,
        case
            when previous_observed_at is null then 1
            when not coalesce(previous_is_breach, false) then 1
            when {{ lnhm.minutes_between('previous_observed_at', 'observed_at') }}
                > {{ var('missing_after_minutes') }} then 1
            else 0
        end as starts_run
    from breaching

),

islands as (

    select
        runs.*,
        sum(starts_run) over (
            partition by plant_id, kind order by observed_at
            rows between unbounded preceding and current row
        ) as island
    from runs

),

breaches as (

    select
        islands.*,
        min(observed_at) over (partition by plant_id, kind, island) as episode_started_at
    from islands

),

final as (

    select
        plant_id,
        kind,
        episode_started_at,
        observed_at,
        cast(observed_value as double precision) as observed_value,
        cast(threshold as double precision) as threshold,
        next_observed_at,
        episode_started_at = first_observed_at as is_at_hot_start
    from breaches

)

select * from final
