"""The simulated plants API as a pure function: ``respond(plant_id, at) -> SimResponse``.

A reading is a pure function of (seed, plant_id, at):
- ``last_watered`` is the most recent past occurrence of the plant's daily watering time (UTC);
- ``soil_moisture`` = 100 - rate x hours since watering, rate per plant (3.28-3.60 /h as fitted
  from real polls; 5.14 /h for plants 16 and 47, which go negative), plus rare sensor glitches;
- ``temperature`` = per-plant baseline (8.6-15 C) + a small daily wave, plus spikes in ~4 % of
  readings (mostly up to ~+20 C, a few down, a few absurd ones near 100 C, as captured).
Faults (sensor faults, timeouts, 5xx, HTML pages, truncated JSON) are drawn per request from
(seed, plant_id, the minute of ``at``, ``request``), or forced per plant id. The HTTP server
numbers its requests, so a re-ask moments later is a fresh draw (the real API answered 0 of 24
same-minute re-asks with a fault again); an in-process caller that asks each plant once a minute
(the backfill) gets the same answers on every run.

v2/v3 timestamps carry a fraction as the real ones did: ``recording_taken`` milliseconds (v2) or
microseconds (v3) drawn from (seed, plant_id, second); ``last_watered`` the plant's own fixed
fraction of its daily watering time. Names with quotes come with the curly quotes most captures
show (``Canna ‘Striata’``) or, for about a third of the API's hours, with straight ones
(``Canna 'Striata'``, as in the 2024-08-06 capture).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from harness.simulator.catalogue import (
    MISSING,
    NOT_FOUND_IDS,
    ON_LOAN_IDS,
    Catalogue,
    Plant,
    _mix64,
)

SHAPES = ("v1", "v2", "v3")
FAULT_KINDS = (
    "timeout",
    "server_error",
    "html",
    "truncated",
    "sensor_fault",
    "not_found",
    "on_loan",
)
JSON_TYPE = "application/json"
HTML_TYPE = "text/html; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
END_OF_2023_SHAPE = 1701388800  # 2023-12-01T00:00:00Z: cycle/sunlight gone, images replaced
_M64 = 0xFFFFFFFFFFFFFFFF
_INV24 = 1.0 / (1 << 24)
_INV16 = 1.0 / (1 << 16)
_TWO_PI_PER_DAY = 2.0 * math.pi / 86400.0
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# What the hosting platform sent when the app was down (Heroku's "Application Error" page).
HEROKU_ERROR_PAGE = """<!DOCTYPE html>
<html>
  <head>
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta charset="utf-8">
    <title>Application Error</title>
    <style media="screen">
      html,body,iframe {
        margin: 0;
        padding: 0;
      }
      html,body {
        height: 100%;
        overflow: hidden;
      }
      iframe {
        width: 100%;
        height: 100%;
        border: 0;
      }
    </style>
  </head>
  <body>
    <iframe src="//www.herokucdn.com/error-pages/application-error.html"></iframe>
  </body>
</html>"""

# What Flask answers for a URL no route matches, e.g. /plants/-1 (its int converter
# does not accept a minus sign).
FLASK_NOT_FOUND_PAGE = """<!doctype html>
<html lang=en>
<title>404 Not Found</title>
<h1>Not Found</h1>
<p>The requested URL was not found on the server. If you entered the URL manually please \
check your spelling and try again.</p>
"""


def _dumps(obj) -> str:
    """JSON as the API's Flask jsonify sent it: sorted keys, compact, ASCII, newline."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n"


def _frag(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


@dataclass(frozen=True)
class SimResponse:
    status: int
    body: str
    content_type: str
    hang: bool = False  # True = timeout fault: do not answer within any sane client timeout


@dataclass(frozen=True)
class TemperatureOffset:
    """A heating (or cooling) fault: the plant's temperature held ``delta_c`` off its normal
    value from ``start`` for ``hours`` (spikes still come on top, as on any reading)."""

    plant_id: int
    start: datetime
    hours: float
    delta_c: float

    @property
    def start_s(self) -> int:
        return to_epoch(self.start)

    @property
    def end_s(self) -> float:
        return self.start_s + self.hours * 3600.0


def parse_temperature_offset(text: str) -> TemperatureOffset:
    """Parse "5=2026-12-02T08:00:00/2/+5": plant 5 held +5 C for 2 hours from 08:00 UTC."""
    pid, sep, rest = text.strip().partition("=")
    parts = rest.split("/")
    try:
        if not sep or len(parts) != 3:
            raise ValueError
        offset = TemperatureOffset(
            int(pid), datetime.fromisoformat(parts[0]), float(parts[1]), float(parts[2])
        )
    except ValueError:
        raise ValueError(
            f"bad temperature offset {text!r}: expected <plant id>=<UTC start>/<hours>/<delta C>,"
            " e.g. 5=2026-12-02T08:00:00/2/+5"
        ) from None
    if offset.hours <= 0:
        raise ValueError(f"bad temperature offset {text!r}: hours must be positive")
    return offset


@dataclass
class SimulatorConfig:
    plants: int = 50
    seed: int = 42
    shape: str = "v1"
    sensor_fault_rate: float = 0.02
    timeout_rate: float = 0.0
    server_error_rate: float = 0.0
    html_rate: float = 0.0
    truncated_rate: float = 0.0
    faults: dict[int, str] = field(default_factory=dict)
    temperature_offsets: tuple[TemperatureOffset, ...] = ()

    def __post_init__(self):
        if self.shape not in SHAPES:
            raise ValueError(f"shape must be one of {', '.join(SHAPES)}, not {self.shape!r}")
        if self.plants < 1:
            raise ValueError("plants must be at least 1")
        rates = (
            self.timeout_rate,
            self.server_error_rate,
            self.html_rate,
            self.truncated_rate,
            self.sensor_fault_rate,
        )
        if any(r < 0 or r > 1 for r in rates) or sum(rates) > 1:
            raise ValueError("fault rates must be between 0 and 1 and add up to at most 1")
        for pid, kind in self.faults.items():
            if kind not in FAULT_KINDS:
                raise ValueError(
                    f"fault for plant {pid}: {kind!r} is not one of {', '.join(FAULT_KINDS)}"
                )


def parse_faults(text: str) -> dict[int, str]:
    """Parse "3=timeout,5=html" into {3: "timeout", 5: "html"}."""
    out: dict[int, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        pid, sep, kind = part.partition("=")
        if not sep or not pid.strip().lstrip("-").isdigit() or kind.strip() not in FAULT_KINDS:
            raise ValueError(f"bad fault {part!r}: expected <plant id>=<{'|'.join(FAULT_KINDS)}>")
        out[int(pid)] = kind.strip()
    return out


def to_epoch(at: datetime) -> int:
    """Whole UTC seconds since 1970 (naive datetimes are taken as UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return math.floor(at.timestamp())


def fmt_v1_recording(epoch: int) -> str:
    y, mo, d, h, mi, s = time.gmtime(epoch)[:6]
    return f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}"


def fmt_rfc1123(epoch: int) -> str:
    t = time.gmtime(epoch)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon]} {t.tm_year:04d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )


def fmt_iso_seconds(epoch: int) -> str:
    y, mo, d, h, mi, s = time.gmtime(epoch)[:6]
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}"


def fraction_v2(us: int) -> str:
    """Milliseconds and the zone marker, as v2 sent them: ``.123Z``."""
    return f".{us // 1000:03d}Z"


def fraction_v3(us: int) -> str:
    """Microseconds without a zone, as v3 sent them: ``.123456``."""
    return f".{us:06d}"


def fmt_v2(epoch: int, us: int = 0) -> str:
    return fmt_iso_seconds(epoch) + fraction_v2(us)


def fmt_v3(epoch: int, us: int = 0) -> str:
    return fmt_iso_seconds(epoch) + fraction_v3(us)


# (recording_taken up to the second, last_watered up to the second, fraction or None)
_FORMATS = {
    "v1": (fmt_v1_recording, fmt_rfc1123, None),
    "v2": (fmt_iso_seconds, fmt_iso_seconds, fraction_v2),
    "v3": (fmt_iso_seconds, fmt_iso_seconds, fraction_v3),
}
STRAIGHT_QUOTE_HOURS = 1 / 3  # share of hours whose names carry straight quotes
_CURLY = str.maketrans({"\u2018": "'", "\u2019": "'"})


def _spike_c(h: int) -> float:
    """The temperature spike a reading's hash draws: about 4 % of readings, as in the 2024
    polls (mostly +0.5..+20 C, some -0.3..-3.5, a few absurd +40..+100); else 0.0."""
    u = (h >> 40) * _INV24
    if u >= 0.04:
        return 0.0
    v = ((h >> 16) & 0xFFFFFF) * _INV24
    if u < 0.029:
        return 0.5 + 19.5 * v
    if u < 0.0345:
        return -(0.3 + 3.2 * v)
    return 40.0 + 60.0 * v


class _Cache(dict):
    """A dict that empties itself when it grows past a bound (cheap memoisation)."""

    def __init__(self, fn, bound=200_000):
        super().__init__()
        self.fn = fn
        self.bound = bound

    def __missing__(self, key):
        if len(self) >= self.bound:
            self.clear()
        value = self[key] = self.fn(key)
        return value


class PlantsSimulator:
    """The plants API for one configuration. ``respond`` is pure for (seed, plant_id, at)."""

    def __init__(self, config: SimulatorConfig | None = None):
        self.config = config = config or SimulatorConfig()
        self.catalogue = Catalogue(config.plants)
        self._seedk = _mix64(config.seed & _M64)
        self._faults = dict(config.faults)
        self._offsets: dict[int, tuple[TemperatureOffset, ...]] = {}
        for offset in config.temperature_offsets:
            self._offsets[offset.plant_id] = (*self._offsets.get(offset.plant_id, ()), offset)
        c = config
        self._t_timeout = c.timeout_rate
        self._t_server = self._t_timeout + c.server_error_rate
        self._t_html = self._t_server + c.html_rate
        self._t_trunc = self._t_html + c.truncated_rate
        self._t_sensor = self._t_trunc + c.sensor_fault_rate
        fmt_rec, fmt_water, self._fraction = _FORMATS[c.shape]
        self._fmt_rec = _Cache(fmt_rec)
        self._fmt_water = _Cache(fmt_water)
        self._templates: dict[tuple[int, bool, bool], tuple] = {}
        self._plant_keys: dict[int, int] = {}
        self._straight_hours = _Cache(self._straight_hour, bound=10_000)
        self._special = NOT_FOUND_IDS | ON_LOAN_IDS | {0}

    # ---- static parts -------------------------------------------------------------------
    def _straight_hour(self, hour: int) -> bool:
        """Whether the API's names carry straight quotes during this hour (since 1970)."""
        return (_mix64(self._seedk ^ (hour * 0xA24BAED4963EE407 & _M64)) >> 40) * _INV24 < (
            STRAIGHT_QUOTE_HOURS
        )

    def _template(self, plant_id: int, era_2023: bool, straight: bool = False) -> tuple:
        """Pre-rendered JSON fragments and constants for one requested id."""
        key = (plant_id, era_2023, straight)
        tpl = self._templates.get(key)
        if tpl is not None:
            return tpl
        src = self.catalogue.plant(self.catalogue.source_id(plant_id))
        fields = self._static_fields(src, plant_id, era_2023)
        if straight:
            fields["name"] = fields["name"].translate(_CURLY)
        # Keys are sorted: botanist, cycle, images, last_watered, name, origin_location,
        # plant_id, recording_taken, scientific_name, soil_moisture, sunlight, temperature.
        before_lw = {k: v for k, v in fields.items() if k < "last_watered"}
        between = {k: v for k, v in fields.items() if "last_watered" < k < "recording_taken"}
        after_rec = {k: v for k, v in fields.items() if "recording_taken" < k < "soil_moisture"}
        after_sm = {k: v for k, v in fields.items() if "soil_moisture" < k < "temperature"}

        def inner(d: dict) -> str:
            return _frag(d)[1:-1] if d else ""

        p1 = "{" + inner(before_lw) + ("," if before_lw else "") + '"last_watered":"'
        p2 = '",' + inner(between) + ',"recording_taken":"'
        p3 = '",' + inner(after_rec) + ("," if after_rec else "") + '"soil_moisture":'
        p4 = "," + inner(after_sm) + ("," if after_sm else "") + '"temperature":'
        phase = _mix64(self._seedk ^ (src.plant_id * 0x9E3779B1)) / 18446744073709551616.0
        amp = 0.08 + 0.1 * ((_mix64(self._seedk ^ src.plant_id ^ 0xA5A5) >> 40) * _INV24)
        # the daily watering time's own fraction of a second (v2/v3 only; fixed per plant)
        water_us = _mix64(src.plant_id * 0x5BD1E995 + 0x7F4A7C15) % 1_000_000
        water_fraction = self._fraction(water_us) if self._fraction else ""
        tpl = (
            p1,
            p2,
            p3,
            p4,
            src.watering_s,
            src.dry_rate_per_hour / 3600.0,
            src.temperature_baseline,
            amp,
            phase * 86400.0,
            water_fraction,
        )
        self._templates[key] = tpl
        return tpl

    def _static_fields(self, src: Plant, plant_id: int, era_2023: bool) -> dict:
        shape = self.config.shape
        out: dict = {"name": src.name, "plant_id": plant_id}
        lat, lon, town, cc, tz = src.origin
        if shape == "v1":
            out["botanist"] = src.botanist
            out["origin_location"] = [lat, lon, town, cc, tz]
        else:
            out["botanist"] = src.botanist_v2
            if shape == "v2":
                out["origin_location"] = {
                    "latitude": float(lat),
                    "longitude": float(lon),
                    "city": town,
                    "country": src.country_name,
                }
            else:
                out["origin_location"] = {
                    "latitude": lat,
                    "longitude": lon,
                    "city": town,
                    "country": src.country_name,
                }
        if src.scientific_name is not MISSING:
            out["scientific_name"] = src.scientific_name
        images = src.images_2023 if era_2023 else src.images
        if images is not MISSING:
            out["images"] = images
        if era_2023:
            if src.cycle is not MISSING:
                out["cycle"] = src.cycle
            if src.sunlight is not MISSING:
                out["sunlight"] = src.sunlight
        return out

    # ---- the API --------------------------------------------------------------------------
    def respond(self, plant_id: int, at: datetime, request: int = 0) -> SimResponse:
        """What GET /plants/{plant_id} answers at time ``at``.

        ``request`` numbers the asks of the same plant in the same minute: the random faults are
        drawn afresh for each number (the HTTP server passes its own request counter).
        """
        if plant_id < 0:
            return SimResponse(404, FLASK_NOT_FOUND_PAGE, HTML_TYPE)
        epoch = to_epoch(at)
        pkey = self._plant_keys.get(plant_id)
        if pkey is None:
            pkey = _mix64(self._seedk ^ (plant_id * 0x632BE59BD9B4E019 & _M64))
            self._plant_keys[plant_id] = pkey
        minute = (epoch // 60) * 0x9E3779B97F4A7C15
        forced = self._faults.get(plant_id)
        if forced is not None:  # forced faults answer alike all minute (their variant too)
            return self._fault(forced, plant_id, epoch, _mix64(pkey ^ (minute & _M64)))
        if self._t_sensor > 0.0:
            h = _mix64(pkey ^ ((minute + request * 0xC2B2AE3D27D4EB4F) & _M64))
            u = (h >> 40) * _INV24
            if u < self._t_sensor:
                if u < self._t_timeout:
                    kind = "timeout"
                elif u < self._t_server:
                    kind = "server_error"
                elif u < self._t_html:
                    kind = "html"
                elif u < self._t_trunc:
                    kind = "truncated"
                else:
                    kind = "sensor_fault"
                return self._fault(kind, plant_id, epoch, h)
        return self._normal(plant_id, epoch, pkey)

    def _normal(self, plant_id: int, epoch: int, pkey: int | None = None) -> SimResponse:
        cat = self.catalogue
        if plant_id > cat.size or plant_id in self._special:
            status = cat.status(plant_id)
            if status == "not_found":
                return self._error(404, "plant not found", plant_id)
            if status == "on_loan":
                return self._error(404, "plant on loan to another museum", plant_id)
        if pkey is None:
            pkey = _mix64(self._seedk ^ (plant_id * 0x632BE59BD9B4E019 & _M64))
        era = self.config.shape == "v1" and epoch < END_OF_2023_SHAPE
        straight = self._straight_hours[epoch // 3600]
        tpl = self._templates.get((plant_id, era, straight)) or self._template(
            plant_id, era, straight
        )
        p1, p2, p3, p4, water_s, rate_s, base, amp, phase_s, water_fraction = tpl
        day = epoch - epoch % 86400
        watered = day + water_s
        if watered > epoch:
            watered -= 86400
        moisture = 100.0 - rate_s * (epoch - watered)
        temperature = base + amp * math.sin((epoch + phase_s) * _TWO_PI_PER_DAY)
        if self._offsets:
            temperature += self._offset_c(plant_id, epoch)
        h = _mix64(pkey ^ (epoch * 0xD1B54A32D192ED03 & _M64))
        temperature += _spike_c(h)
        if (h & 0xFFFF) * _INV16 < 0.001:  # a rare moisture glitch (-44 seen in 1,000 polls)
            moisture = -60.0 + 40.0 * (((h >> 16) & 0xFFFFFF) * _INV24)
        recorded = self._fmt_rec[epoch]
        if self._fraction is not None:  # the request's fraction of a second (v2/v3)
            recorded += self._fraction(_mix64(h ^ 0x94D049BB133111EB) % 1_000_000)
        body = (
            p1
            + self._fmt_water[watered]
            + water_fraction
            + p2
            + recorded
            + p3
            + repr(moisture)
            + p4
            + repr(temperature)
            + "}\n"
        )
        return SimResponse(200, body, JSON_TYPE)

    def _offset_c(self, plant_id: int, epoch: int) -> float:
        """The scenario's temperature offset of the plant at this second (0 outside any)."""
        return sum(
            o.delta_c for o in self._offsets.get(plant_id, ()) if o.start_s <= epoch < o.end_s
        )

    # ---- ground truth for tests: what a reading's temperature is made of ------------------
    def steady_temperature(self, plant_id: int, at: datetime) -> float:
        """The plant's temperature at ``at`` without a spike: baseline, daily wave, offset."""
        epoch = to_epoch(at)
        era = self.config.shape == "v1" and epoch < END_OF_2023_SHAPE
        tpl = self._template(plant_id, era)
        base, amp, phase_s = tpl[6], tpl[7], tpl[8]
        steady = base + amp * math.sin((epoch + phase_s) * _TWO_PI_PER_DAY)
        return steady + self._offset_c(plant_id, epoch)

    def temperature_spike(self, plant_id: int, at: datetime) -> float:
        """The spike added to the reading at ``at`` (0.0 for most readings)."""
        pkey = _mix64(self._seedk ^ (plant_id * 0x632BE59BD9B4E019 & _M64))
        return _spike_c(_mix64(pkey ^ (to_epoch(at) * 0xD1B54A32D192ED03 & _M64)))

    def _error(self, status: int, message: str, plant_id: int) -> SimResponse:
        return SimResponse(status, _dumps({"error": message, "plant_id": plant_id}), JSON_TYPE)

    def _fault(self, kind: str, plant_id: int, epoch: int, h: int) -> SimResponse:
        variant = h & 1
        if kind == "sensor_fault":
            return self._error(500, "plant sensor fault", plant_id)
        if kind == "not_found":
            return self._error(404, "plant not found", plant_id)
        if kind == "on_loan":
            return self._error(404, "plant on loan to another museum", plant_id)
        if kind == "timeout":
            # If a client waits long enough, the platform's router gives up (Heroku H12).
            return SimResponse(503, HEROKU_ERROR_PAGE, HTML_TYPE, hang=True)
        if kind == "server_error":
            if variant:
                return SimResponse(502, "Bad Gateway", TEXT_TYPE)
            return SimResponse(503, '{"message":"Service Unavailable"}\n', JSON_TYPE)
        if kind == "html":
            return SimResponse(503 if variant else 200, HEROKU_ERROR_PAGE, HTML_TYPE)
        if kind == "truncated":
            full = self._normal(plant_id, epoch)
            body = full.body
            return SimResponse(full.status, body[: len(body) // 2], JSON_TYPE)
        raise ValueError(f"unknown fault kind {kind!r}")

    def index(self) -> SimResponse:
        """What GET / answers."""
        return SimResponse(
            200,
            _dumps({"plants_on_display": self.catalogue.plants_on_display, "success": True}),
            JSON_TYPE,
        )
