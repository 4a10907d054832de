{#- One row per raw reading, typed, renamed and cleaned. No row is dropped here. -#}
with

source as (

    select * from {{ source('plants_api', 'plant_readings') }}

),

renamed as (

    select
        cast(plant_id as bigint) as plant_id,
        cast(plant_id as {{ dbt.type_string() }}) || '|' || recording_taken as reading_id,

        -- times
        recording_taken as recording_taken_original,
        {{ lnhm.parse_api_timestamp('recording_taken') }} as recorded_at,
        last_watered as last_watered_original,
        {{ lnhm.parse_api_timestamp('last_watered') }} as last_watered_at,
        {{ lnhm.to_utc_naive('fetched_at') }} as fetched_at,
        fetched_at as fetched_at_tz,

        -- measurements
        cast(soil_moisture as double precision) as soil_moisture_pct,
        cast(temperature as double precision) as temperature_c,

        -- plant
        nullif(trim(name), '') as plant_name_original,
        case
            when trim(scientific_name) = 'null' then null
            when left(trim(scientific_name), 1) = '['
                then {{ lnhm.json_get_text('scientific_name', [0]) }}
            when left(trim(scientific_name), 1) = '"'
                then {{ lnhm.json_get_text('scientific_name', []) }}
            else nullif(trim(scientific_name), '')
        end as scientific_name,
        {{ lnhm.json_get_text('images', ['regular_url']) }} as image_url_regular,
        coalesce(
            {{ lnhm.json_get_text('images', ['regular_url']) }},
            {{ lnhm.json_get_text('images', ['medium_url']) }},
            {{ lnhm.json_get_text('images', ['original_url']) }},
            {{ lnhm.json_get_text('images', ['small_url']) }},
            {{ lnhm.json_get_text('images', ['thumbnail']) }}
        ) as image_url,
        {{ lnhm.json_get_text('images', ['license_name']) }} as image_license_name,

        -- origin: v1 sends [lat, lon, town, country_code, tz]; v2/v3 {latitude, longitude, city, country}
        origin_location as origin_location_original,
        case
            when left(trim(origin_location), 1) = '[' then 'list'
            when left(trim(origin_location), 1) = '{' then 'object'
        end as origin_location_shape,
        {{ lnhm.safe_to_double(
            'coalesce(' ~ lnhm.json_get_text('origin_location', [0]) ~ ', '
            ~ lnhm.json_get_text('origin_location', ['latitude']) ~ ')') }} as origin_latitude,
        {{ lnhm.safe_to_double(
            'coalesce(' ~ lnhm.json_get_text('origin_location', [1]) ~ ', '
            ~ lnhm.json_get_text('origin_location', ['longitude']) ~ ')') }} as origin_longitude,
        nullif(trim(coalesce(
            {{ lnhm.json_get_text('origin_location', [2]) }},
            {{ lnhm.json_get_text('origin_location', ['city']) }}
        )), '') as origin_city,
        nullif(trim(coalesce(
            {{ lnhm.json_get_text('origin_location', [3]) }},
            {{ lnhm.json_get_text('origin_location', ['country']) }},
            {{ lnhm.json_get_text('origin_location', ['country_code']) }}
        )), '') as origin_country_original,
        nullif(trim(coalesce(
            {{ lnhm.json_get_text('origin_location', [4]) }},
            {{ lnhm.json_get_text('origin_location', ['timezone']) }}
        )), '') as origin_timezone,

        -- botanist
        nullif(trim(botanist__name), '') as botanist_name,
        nullif(lower(trim(botanist__email)), '') as botanist_email,
        {{ lnhm.is_valid_email('trim(botanist__email)') }} as is_botanist_email_valid,
        botanist__phone as botanist_phone_original,
        {{ lnhm.phone_digits('botanist__phone') }} as botanist_phone_digits,
        {{ lnhm.phone_extension('botanist__phone') }} as botanist_phone_extension,

        -- load metadata
        run_id

    from source

),

final as (

    select
        *,
        {{ lnhm.clean_plant_name('plant_name_original', 'scientific_name') }} as plant_name,
        case
            when origin_location_shape = 'list' then 'v1'
            when {{ lnhm.regex_matches('recording_taken_original', '(Z|[+-][0-9]{2}:?[0-9]{2})$') }} then 'v2'
            when origin_location_shape = 'object' then 'v3'
        end as api_shape,
        case
            when botanist_email is not null or botanist_name is not null
                then {{ lnhm.stable_bigint_id("coalesce(botanist_email, lower(botanist_name))") }}
        end as botanist_id
    from renamed

)

select * from final
