{#- Per plant and UTC day: readings, flagged readings, spread of valid values, waterings.
    Long-lived: never rebuilt (full_refresh: false). Each run recomputes, from every reading of
    the day, only the days that got readings fetched since the last run and that the archive
    cannot have pruned: days from date(newest fetch - retention_hours) on, or older days whose
    readings are all still in fct_readings (at least as many as already counted). A pruned day
    keeps its row as it is, so history survives the pruning of raw and fct_readings. The sums
    and counts let plant_baselines combine days exactly.
    Dryness: hours_dry is the time between consecutive moisture readings of the plant (that
    count in statistics, values below 0 included: for fast-drying plants they are the real
    signal) when both are below its low threshold (seed care_thresholds) and at most
    missing_after_minutes apart (a longer gap is no data, not dry time), split at midnight.
    min_reported_soil_moisture_pct is the lowest value as reported, out of the sensor's range
    (0-100) or not. A day is recomputed when the next day's first reading arrives, so the
    interval spanning midnight reaches both days.
    Temperature spikes (int_temperature_spikes): temperature_spikes counts them and the
    spike_free_temperature_c_* sums leave them out (plant_baselines combines these). A spike's
    verdict needs the readings up to temperature_spike_window_minutes after it, so a reading in
    the first minutes after midnight also recomputes the day before.
    Only the changed days and the minutes before them are read for dryness: the changed days
    come from the new readings alone (a reading within missing_after_minutes after midnight can
    end a dry interval begun the day before), not from ranking every hot reading by time; the
    readings are `not materialized`, so that PostgreSQL filters fct_readings itself. -#}
{{
    config(
        materialized='incremental',
        unique_key=['plant_id', 'day'],
        full_refresh=false,
    )
}}

with

readings as not materialized (

    select
        *,
        cast(recorded_at as date) as day
    from {{ ref('fct_readings') }}
    where recorded_at is not null

),

new_readings as (

    -- a full build takes every reading; an incremental run those fetched since the last
    select
        day,
        recorded_at,
        fetched_at
    from readings
    {% if is_incremental() %}
        where fetched_at >= {{ lnhm.watermark('last_fetched_at') }}
    {% endif %}

),

waterings as (

    select * from {{ ref('fct_waterings') }}

),

thresholds as (

    select * from {{ ref('care_thresholds') }}

),

spikes as (

    select * from {{ ref('int_temperature_spikes') }}
    where is_temperature_spike

),

hot_floor as (

    -- the archive prunes whole UTC days older than retention_hours: days from this one on
    -- still have all their readings in fct_readings
    select
        cast(
            {{ lnhm.subtract_hours('max(fetched_at)', var('retention_hours')) }} as date
        ) as first_unprunable_day
    from readings

),

hot_day_counts as (

    select
        day,
        count(*) as readings
    from readings
    group by day

),

kept_day_counts as (

    select
        day,
        sum(readings) as readings
    {% if is_incremental() %}
        from {{ this }}
    {% else %}
        from hot_day_counts
        where 1 = 0
    {% endif %}
    group by day

),

candidate_days as (

    -- the day of every new reading, and the day before one that can end a dry interval begun
    -- before midnight (at most missing_after_minutes long)
    select day from new_readings
    union all
    select cast({{ lnhm.subtract_minutes('recorded_at', var('missing_after_minutes')) }} as date) as day
    from new_readings
    where cast({{ lnhm.subtract_minutes('recorded_at', var('missing_after_minutes')) }} as date) < day
    union all
    -- ... and the day before a reading that can change the spike verdict of its last minutes
    select
        cast({{ lnhm.subtract_minutes('recorded_at', var('temperature_spike_window_minutes')) }} as date) as day
    from new_readings
    where cast({{ lnhm.subtract_minutes('recorded_at', var('temperature_spike_window_minutes')) }} as date) < day

),

changed_days as (

    -- a full build takes every day; an incremental run the days with new readings, if the
    -- archive cannot have pruned them yet (recent, or still holding every reading counted)
    select distinct candidate_days.day
    from candidate_days
    {% if is_incremental() %}
        left join hot_day_counts on candidate_days.day = hot_day_counts.day
        left join kept_day_counts on candidate_days.day = kept_day_counts.day
        where
            candidate_days.day >= (select hot_floor.first_unprunable_day from hot_floor)
            or hot_day_counts.readings >= coalesce(kept_day_counts.readings, 0)
    {% endif %}

),

days_readings as (

    select
        readings.*,
        spikes.reading_id is not null as is_temperature_spike
    from readings
    inner join changed_days on readings.day = changed_days.day
    left join spikes on readings.reading_id = spikes.reading_id

),

plant_thresholds as (

    select
        plants.plant_id,
        coalesce(own.soil_moisture_pct_min, dflt.soil_moisture_pct_min) as soil_moisture_pct_min
    from (select distinct plant_id from days_readings) as plants
    left join thresholds as own on plants.plant_id = own.plant_id
    left join thresholds as dflt on dflt.plant_id is null

),

first_read_at as (

    -- a dry interval that ends on a changed day begins at most missing_after_minutes before
    -- that day's midnight
    select
        {{ lnhm.subtract_minutes('cast(min(changed_days.day) as timestamp)', var('missing_after_minutes')) }}
            as recorded_at
    from changed_days

),

moisture_series as (

    -- every moisture value as reported from first_read_at on, with the plant's previous one
    select
        plant_id,
        day,
        recorded_at,
        soil_moisture_pct,
        lag(recorded_at) over (partition by plant_id order by recorded_at) as previous_recorded_at,
        lag(soil_moisture_pct) over (
            partition by plant_id order by recorded_at
        ) as previous_soil_moisture_pct
    from readings
    where
        counts_in_statistics
        and soil_moisture_pct is not null
        and recorded_at >= (select first_read_at.recorded_at from first_read_at)

),

dry_intervals as (

    -- known dry: both ends below the threshold, no gap between them
    select
        moisture_series.plant_id,
        moisture_series.day,
        {{ lnhm.epoch_seconds('moisture_series.previous_recorded_at') }} as started_s,
        {{ lnhm.epoch_seconds('moisture_series.recorded_at') }} as ended_s,
        {{ lnhm.epoch_seconds('cast(moisture_series.day as timestamp)') }} as midnight_s
    from moisture_series
    inner join plant_thresholds on moisture_series.plant_id = plant_thresholds.plant_id
    where
        moisture_series.previous_soil_moisture_pct < plant_thresholds.soil_moisture_pct_min
        and moisture_series.soil_moisture_pct < plant_thresholds.soil_moisture_pct_min
        and {{ lnhm.minutes_between('moisture_series.previous_recorded_at', 'moisture_series.recorded_at') }}
        <= {{ var('missing_after_minutes') }}

),

dry_pieces as (

    -- each interval's part on the day it ended, and its part before that midnight
    select
        plant_id,
        day,
        ended_s - greatest(started_s, midnight_s) as dry_seconds
    from dry_intervals
    union all
    select
        plant_id,
        {{ lnhm.add_days('day', -1) }} as day,
        midnight_s - started_s as dry_seconds
    from dry_intervals
    where started_s < midnight_s

),

daily_dry as (

    select
        plant_id,
        day,
        sum(dry_seconds) / 3600.0 as hours_dry
    from dry_pieces
    group by plant_id, day

),

valid as (

    select
        plant_id,
        day,
        fetched_at,
        is_flagged,
        case when soil_moisture_counts_in_statistics then soil_moisture_pct end as soil_moisture_pct,
        case when temperature_counts_in_statistics then temperature_c end as temperature_c,
        is_temperature_spike,
        case
            when temperature_counts_in_statistics and not is_temperature_spike then temperature_c
        end as spike_free_temperature_c,
        case when counts_in_statistics then soil_moisture_pct end as reported_soil_moisture_pct
    from days_readings

),

daily as (

    select
        plant_id,
        day,
        count(*) as readings,
        cast(sum(case when is_flagged then 1 else 0 end) as bigint) as flagged_readings,
        avg(soil_moisture_pct) as avg_soil_moisture_pct,
        min(soil_moisture_pct) as min_soil_moisture_pct,
        max(soil_moisture_pct) as max_soil_moisture_pct,
        min(reported_soil_moisture_pct) as min_reported_soil_moisture_pct,
        avg(temperature_c) as avg_temperature_c,
        min(temperature_c) as min_temperature_c,
        max(temperature_c) as max_temperature_c,
        count(soil_moisture_pct) as soil_moisture_pct_n,
        sum(soil_moisture_pct) as soil_moisture_pct_sum,
        sum(soil_moisture_pct * soil_moisture_pct) as soil_moisture_pct_sum_sq,
        count(temperature_c) as temperature_c_n,
        sum(temperature_c) as temperature_c_sum,
        sum(temperature_c * temperature_c) as temperature_c_sum_sq,
        cast(sum(case when is_temperature_spike then 1 else 0 end) as bigint) as temperature_spikes,
        count(spike_free_temperature_c) as spike_free_temperature_c_n,
        sum(spike_free_temperature_c) as spike_free_temperature_c_sum,
        sum(spike_free_temperature_c * spike_free_temperature_c) as spike_free_temperature_c_sum_sq,
        max(fetched_at) as last_fetched_at
    from valid
    group by plant_id, day

),

daily_waterings as (

    select
        plant_id,
        cast(watered_at as date) as day,
        count(*) as waterings
    from waterings
    group by plant_id, cast(watered_at as date)

),

final as (

    select
        daily.plant_id,
        daily.day,
        daily.readings,
        daily.flagged_readings,
        daily.avg_soil_moisture_pct,
        daily.min_soil_moisture_pct,
        daily.max_soil_moisture_pct,
        daily.avg_temperature_c,
        daily.min_temperature_c,
        daily.max_temperature_c,
        coalesce(daily_waterings.waterings, 0) as waterings,
        daily.soil_moisture_pct_n,
        daily.soil_moisture_pct_sum,
        daily.soil_moisture_pct_sum_sq,
        daily.temperature_c_n,
        daily.temperature_c_sum,
        daily.temperature_c_sum_sq,
        daily.last_fetched_at,
        cast(coalesce(daily_dry.hours_dry, 0) as double precision) as hours_dry,
        cast(plant_thresholds.soil_moisture_pct_min as double precision) as dry_threshold_pct,
        daily.min_reported_soil_moisture_pct,
        coalesce(daily.min_reported_soil_moisture_pct < 0, false) as is_min_below_sensor_range,
        daily.temperature_spikes,
        cast(daily.spike_free_temperature_c_n as bigint) as spike_free_temperature_c_n,
        cast(daily.spike_free_temperature_c_sum as double precision) as spike_free_temperature_c_sum,
        cast(daily.spike_free_temperature_c_sum_sq as double precision) as spike_free_temperature_c_sum_sq
    from daily
    left join daily_waterings
        on daily.plant_id = daily_waterings.plant_id and daily.day = daily_waterings.day
    left join daily_dry on daily.plant_id = daily_dry.plant_id and daily.day = daily_dry.day
    left join plant_thresholds on daily.plant_id = plant_thresholds.plant_id

)

select * from final
