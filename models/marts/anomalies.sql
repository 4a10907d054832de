{#- One row per incident of the hot store. Kinds:
    - moisture_low / moisture_high / temperature_low / temperature_high: a reading outside the
      plant's care thresholds (seed care_thresholds: a default row plus per-plant rows),
    - baseline_deviation: a temperature more than baseline_deviation_stddevs standard deviations
      from the plant's 7-day baseline of the previous day,
    each only when sustained for anomaly_min_consecutive_readings consecutive readings;
    - no_reading: no reading for missing_after_minutes;
    - sensor_faults: sensor_fault_min_consecutive consecutive "plant sensor fault" answers.
    An incident ends at the first reading (or, for sensor_faults, successful fetch) that no
    longer breaks the rule; ended_at is null while it is open. -#}
with

readings as (

    select * from {{ ref('fct_readings') }}
    where recorded_at is not null and not is_duplicate

),

thresholds as (

    select * from {{ ref('care_thresholds') }}

),

baselines as (

    select * from {{ ref('plant_baselines') }}

),

attempts as (

    select * from {{ ref('int_fetch_attempts') }}

),

clock as (

    select * from {{ ref('int_warehouse_clock') }}

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
        readings.is_temperature_implausible,
        plant_thresholds.soil_moisture_pct_min,
        plant_thresholds.soil_moisture_pct_max,
        plant_thresholds.temperature_c_min,
        plant_thresholds.temperature_c_max,
        baselines.temperature_c_mean_7d,
        baselines.temperature_c_stddev_7d,
        baselines.temperature_c_readings_7d
    from readings
    inner join plant_thresholds on readings.plant_id = plant_thresholds.plant_id
    left join baselines
        on
            readings.plant_id = baselines.plant_id
            and baselines.day = {{ lnhm.add_days('cast(readings.recorded_at as date)', -1) }}

),

checks as (

    select
        plant_id,
        recorded_at,
        'moisture_low' as kind,
        soil_moisture_pct as metric_value,
        -soil_moisture_pct as severity,
        soil_moisture_pct < soil_moisture_pct_min as is_breach
    from evaluated
    where soil_moisture_pct is not null

    union all

    select
        plant_id,
        recorded_at,
        'moisture_high' as kind,
        soil_moisture_pct as metric_value,
        soil_moisture_pct as severity,
        soil_moisture_pct > soil_moisture_pct_max as is_breach
    from evaluated
    where soil_moisture_pct is not null

    union all

    select
        plant_id,
        recorded_at,
        'temperature_low' as kind,
        temperature_c as metric_value,
        -temperature_c as severity,
        temperature_c < temperature_c_min as is_breach
    from evaluated
    where temperature_c is not null and not is_temperature_implausible

    union all

    select
        plant_id,
        recorded_at,
        'temperature_high' as kind,
        temperature_c as metric_value,
        temperature_c as severity,
        temperature_c > temperature_c_max as is_breach
    from evaluated
    where temperature_c is not null and not is_temperature_implausible

    union all

    select
        plant_id,
        recorded_at,
        'baseline_deviation' as kind,
        temperature_c as metric_value,
        abs(temperature_c - temperature_c_mean_7d) as severity,
        abs(temperature_c - temperature_c_mean_7d)
        > {{ var('baseline_deviation_stddevs') }} * temperature_c_stddev_7d as is_breach
    from evaluated
    where
        temperature_c is not null
        and not is_temperature_implausible
        and temperature_c_stddev_7d > 0
        and temperature_c_readings_7d >= {{ var('baseline_min_readings') }}

),

islands as (

    select
        checks.*,
        row_number() over (partition by plant_id, kind order by recorded_at)
        - row_number() over (partition by plant_id, kind, is_breach order by recorded_at) as island,
        lead(recorded_at) over (partition by plant_id, kind order by recorded_at) as next_recorded_at
    from checks

),

breach_runs as (

    select
        plant_id,
        kind,
        island,
        min(recorded_at) as started_at,
        max(recorded_at) as last_breach_at,
        cast(count(*) as bigint) as readings
    from islands
    where is_breach
    group by plant_id, kind, island

),

worst as (

    select
        plant_id,
        kind,
        island,
        metric_value,
        next_recorded_at,
        row_number() over (
            partition by plant_id, kind, island order by severity desc, recorded_at asc
        ) as severity_rank,
        row_number() over (
            partition by plant_id, kind, island order by recorded_at desc
        ) as recency_rank
    from islands
    where is_breach

),

threshold_incidents as (

    select
        breach_runs.plant_id,
        breach_runs.kind,
        breach_runs.started_at,
        last_row.next_recorded_at as ended_at,
        worst_row.metric_value as worst_value,
        breach_runs.readings
    from breach_runs
    inner join worst as worst_row
        on
            breach_runs.plant_id = worst_row.plant_id
            and breach_runs.kind = worst_row.kind
            and breach_runs.island = worst_row.island
            and worst_row.severity_rank = 1
    inner join worst as last_row
        on
            breach_runs.plant_id = last_row.plant_id
            and breach_runs.kind = last_row.kind
            and breach_runs.island = last_row.island
            and last_row.recency_rank = 1
    where breach_runs.readings >= {{ var('anomaly_min_consecutive_readings') }}

),

reading_gaps as (

    select
        plant_id,
        recorded_at,
        lead(recorded_at) over (partition by plant_id order by recorded_at) as next_recorded_at
    from readings

),

no_reading_incidents as (

    select
        reading_gaps.plant_id,
        'no_reading' as kind,
        reading_gaps.recorded_at as started_at,
        reading_gaps.next_recorded_at as ended_at,
        {{ lnhm.minutes_between(
            'reading_gaps.recorded_at',
            'coalesce(reading_gaps.next_recorded_at, clock.as_of_at)') }} as worst_value,
        cast(0 as bigint) as readings
    from reading_gaps
    cross join clock
    where
        {{ lnhm.minutes_between(
            'reading_gaps.recorded_at',
            'coalesce(reading_gaps.next_recorded_at, clock.as_of_at)') }}
        > {{ var('missing_after_minutes') }}

),

fault_attempts as (

    select
        plant_id,
        fetched_at,
        outcome = 'sensor_fault' as is_fault,
        row_number() over (partition by plant_id order by fetched_at)
        - row_number() over (
            partition by plant_id, outcome = 'sensor_fault' order by fetched_at
        ) as island,
        lead(fetched_at) over (partition by plant_id order by fetched_at) as next_fetched_at
    from attempts

),

fault_runs as (

    select
        plant_id,
        island,
        min(fetched_at) as started_at,
        max(fetched_at) as last_fault_at,
        cast(count(*) as bigint) as readings
    from fault_attempts
    where is_fault
    group by plant_id, island

),

sensor_fault_incidents as (

    select
        fault_runs.plant_id,
        'sensor_faults' as kind,
        fault_runs.started_at,
        fault_attempts.next_fetched_at as ended_at,
        cast(fault_runs.readings as double precision) as worst_value,
        fault_runs.readings
    from fault_runs
    inner join fault_attempts
        on
            fault_runs.plant_id = fault_attempts.plant_id
            and fault_runs.last_fault_at = fault_attempts.fetched_at
            and fault_attempts.is_fault
    where fault_runs.readings >= {{ var('sensor_fault_min_consecutive') }}

),

incidents as (

    select * from threshold_incidents
    union all
    select * from no_reading_incidents
    union all
    select * from sensor_fault_incidents

),

final as (

    select
        cast(plant_id as {{ dbt.type_string() }}) || '|' || kind || '|'
        || {{ lnhm.format_timestamp_iso('started_at') }} as anomaly_id,
        plant_id,
        kind,
        started_at,
        ended_at,
        ended_at is null as is_open,
        cast(worst_value as double precision) as worst_value,
        readings
    from incidents

)

select * from final
