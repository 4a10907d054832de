{#- One row per plant known to the warehouse (ever read, or answering "on loan"): its latest reading and whether it needs attention. Times are relative to the
    newest fetch (int_warehouse_clock), not to the wall clock. Status, first match wins:
    on_loan, missing, sensor_fault, critical (an open incident of a critical kind, seed
    incident_kinds: the care thresholds), warning (any other open incident of the plant), ok.
    Status follows incidents only: one flagged reading (a 57.4 deg C spike, say) is not a
    problem of the plant until the incident rules make it one (they need a sustained breach).
    The readings are read by several CTEs: `not materialized`, so that PostgreSQL filters and
    aggregates the table itself (by its plant and time index) rather than a copy of the whole
    hot window. Each plant's first and latest attempts come from one aggregate, not from ranking
    every attempt twice. At 1,000 plants x 48 h: PostgreSQL 10.5 s to 6.3 s, DuckDB 0.67 s to
    0.6 s. -#}
{%- set now = lnhm.watermark('as_of_at', ref('int_warehouse_clock')) %}
with

readings as not materialized (

    select * from {{ ref('fct_readings') }}
    where counts_in_statistics

),

plants as (

    select * from {{ ref('dim_plants') }}

),

attempts as (

    select * from {{ ref('int_fetch_attempts') }}

),

incidents as (

    select * from {{ ref('fct_incidents') }}
    where plant_id is not null

),

clock as (

    select * from {{ ref('int_warehouse_clock') }}

),

drying as (

    select * from {{ ref('int_plant_drying') }}

),

attempt_times as (

    -- each plant's first and latest request, and its latest definitive answer: a reading, "on
    -- loan" or "not found" (a sensor fault, timeout or server error says nothing about where
    -- the plant is). One pass: ranking every attempt sorted them all, twice.
    select
        plant_id,
        min(fetched_at) as first_fetched_at,
        max(fetched_at) as latest_fetched_at,
        max(case when outcome in ('reading', 'on_loan', 'not_found') then fetched_at end)
            as latest_answer_fetched_at,
        max(case when outcome in ('on_loan', 'not_found') then 1 else 0 end) = 1 as has_absent_answer
    from attempts
    group by plant_id

),

latest_outcomes as (

    -- the outcomes at those times (the least, should one plant have two at the same instant)
    select
        attempt_times.plant_id,
        min(
            case when attempts.fetched_at = attempt_times.latest_fetched_at then attempts.outcome end
        ) as latest_fetch_outcome,
        min(
            case
                when
                    attempts.fetched_at = attempt_times.latest_answer_fetched_at
                    and attempts.outcome in ('reading', 'on_loan', 'not_found')
                    then attempts.outcome
            end
        ) as latest_answer_outcome
    from attempt_times
    inner join attempts
        on
            attempt_times.plant_id = attempts.plant_id
            and attempts.fetched_at in (attempt_times.latest_fetched_at, attempt_times.latest_answer_fetched_at)
    group by attempt_times.plant_id

),

known_plants as (

    -- a plant is known from its readings, or from the API saying it is on loan or not found
    -- (an id the museum polls that answers "plant not found" is a missing plant, not no plant)
    select plant_id from plants
    union
    select plant_id from attempt_times
    where has_absent_answer

),

latest_recording as (

    select
        plant_id,
        max(recorded_at) as recorded_at
    from readings
    group by plant_id

),

ranked_readings as (

    -- the readings of each plant's latest recording time (one, as duplicates do not count):
    -- ranking every hot reading sorted them all (1.4 s at 1,000 plants)
    select
        readings.*,
        row_number() over (
            partition by readings.plant_id
            order by readings.fetched_at desc
        ) as recency_rank
    from readings
    inner join latest_recording
        on
            readings.plant_id = latest_recording.plant_id
            and readings.recorded_at = latest_recording.recorded_at

),

latest_reading as (

    select * from ranked_readings
    where recency_rank = 1

),

trend_readings as (

    -- the moisture readings of the trend window since the latest watering, as reported: values
    -- below 0 are the real drying signal of fast-drying plants (16, 47), so they count here
    select
        readings.plant_id,
        readings.soil_moisture_pct,
        {{ lnhm.epoch_seconds('readings.recorded_at') }} as recorded_s
    from readings
    inner join latest_reading on readings.plant_id = latest_reading.plant_id
    where
        -- the clock read as a literal (macros/watermark.sql): PostgreSQL filters the scan by it
        readings.recorded_at
        >= {{ lnhm.subtract_minutes(now, var('moisture_trend_window_minutes')) }}
        and (
            latest_reading.last_watered_at is null
            or readings.recorded_at >= latest_reading.last_watered_at
        )
        and readings.soil_moisture_pct is not null

),

trend_pairs as (

    select
        earlier.plant_id,
        (later.soil_moisture_pct - earlier.soil_moisture_pct)
        / (later.recorded_s - earlier.recorded_s) * 3600 as slope_pct_per_hour
    from trend_readings as earlier
    inner join trend_readings as later
        on
            earlier.plant_id = later.plant_id
            and earlier.recorded_s < later.recorded_s

),

trend as (

    -- Theil-Sen: the median of the slopes between every pair of readings, so one sensor
    -- glitch (-44 % between two 20 % readings) does not swing it as a least-squares slope
    -- would. No pair (fewer than two readings at different times, e.g. just after a
    -- watering): no row, so the trend is null (a least-squares slope would be 0/0, NaN)
    select
        plant_id,
        cast(
            percentile_cont(0.5) within group (order by slope_pct_per_hour) as double precision
        ) as moisture_trend_pct_per_hour
    from trend_pairs
    group by plant_id

),

open_incidents as (

    select
        plant_id,
        cast(count(*) as bigint) as open_incidents,
        -- severity comes from the seed incident_kinds (critical: the care thresholds)
        cast(sum(case when severity = 'critical' then 1 else 0 end) as bigint)
            as open_threshold_incidents,
        cast(sum(case when kind = 'sensor_faults' then 1 else 0 end) as bigint) as open_sensor_fault_incidents
    from incidents
    where is_open
    group by plant_id

),

joined as (

    select
        known_plants.plant_id,
        plants.plant_name,
        plants.botanist_id,
        plants.botanist_name,
        plants.botanist_email,
        coalesce(latest_reading.recorded_at, plants.last_seen_at) as latest_recorded_at,
        latest_reading.soil_moisture_pct,
        latest_reading.temperature_c,
        latest_reading.last_watered_at,
        trend.moisture_trend_pct_per_hour,
        drying.dry_expected_at,
        latest_outcomes.latest_fetch_outcome,
        attempt_times.latest_fetched_at,
        latest_outcomes.latest_answer_outcome,
        attempt_times.first_fetched_at,
        coalesce(open_incidents.open_incidents, 0) as open_incidents,
        coalesce(open_incidents.open_threshold_incidents, 0) as open_threshold_incidents,
        coalesce(open_incidents.open_sensor_fault_incidents, 0) as open_sensor_fault_incidents,
        clock.as_of_at
    from known_plants
    cross join clock
    left join plants on known_plants.plant_id = plants.plant_id
    left join latest_reading on known_plants.plant_id = latest_reading.plant_id
    left join attempt_times on known_plants.plant_id = attempt_times.plant_id
    left join latest_outcomes on known_plants.plant_id = latest_outcomes.plant_id
    left join trend on known_plants.plant_id = trend.plant_id
    left join drying on known_plants.plant_id = drying.plant_id
    left join open_incidents on known_plants.plant_id = open_incidents.plant_id

),

measured as (

    select
        joined.*,
        {{ lnhm.minutes_between('latest_recorded_at', 'as_of_at') }} as minutes_since_reading,
        {{ lnhm.minutes_between('last_watered_at', 'as_of_at') }} / 60.0 as hours_since_watered,
        coalesce(latest_answer_outcome = 'on_loan', false) as is_on_loan,
        open_sensor_fault_incidents > 0 as is_sensor_faulting
    from joined

),

final as (

    select
        plant_id,
        plant_name,
        botanist_id,
        botanist_name,
        botanist_email,
        latest_recorded_at,
        minutes_since_reading,
        soil_moisture_pct,
        temperature_c,
        last_watered_at,
        hours_since_watered,
        moisture_trend_pct_per_hour,
        dry_expected_at,
        (
            not is_on_loan
            and (
                latest_recorded_at is null
                or minutes_since_reading > {{ var('missing_after_minutes') }}
            )
        ) as is_missing,
        -- since when it is missing: its last reading, or, never read in the hot store, the
        -- first time it was asked there
        case
            when not is_on_loan
                and (
                    latest_recorded_at is null
                    or minutes_since_reading > {{ var('missing_after_minutes') }}
                )
                then coalesce(latest_recorded_at, first_fetched_at)
        end as missing_since_at,
        is_on_loan,
        is_sensor_faulting,
        open_incidents,
        case
            when is_on_loan then 'on_loan'
            when latest_recorded_at is null
                or minutes_since_reading > {{ var('missing_after_minutes') }} then 'missing'
            when is_sensor_faulting then 'sensor_fault'
            when open_threshold_incidents > 0 then 'critical'
            when open_incidents > 0 then 'warning'
            else 'ok'
        end as status,
        latest_fetch_outcome,
        latest_answer_outcome,
        latest_fetched_at,
        as_of_at
    from measured

)

select * from final
