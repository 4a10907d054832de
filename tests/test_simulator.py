"""The simulator against the real API's captures (tests/fixtures/plants-api/).

Expectations come from the captures and from numbers computed here from them, never from the
simulator's own output.
"""

from __future__ import annotations

import csv
import json
import re
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness.simulator.clock import Clock, parse_start
from harness.simulator.model import PlantsSimulator, SimulatorConfig, parse_faults

FIXTURES = Path(__file__).parent / "fixtures" / "plants-api"
ROOT = Path(__file__).resolve().parents[1]

RE_V1_RECORDING = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
RE_RFC1123 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} GMT$"
)
RE_V2_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
RE_V3_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$")
RE_COORD = re.compile(r"^-?\d{1,3}\.\d+$")
RE_CC = re.compile(r"^[A-Z]{2}$")
RE_TZ = re.compile(r"^[A-Z][A-Za-z_]+(/[A-Za-z_]+)+$")
RE_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
RE_EMAIL_VALID = re.compile(r"^[a-z0-9]+(\.[a-z0-9]+)*@[a-z0-9-]+(\.[a-z0-9-]+)+$")
RE_PHONE = re.compile(r"^[0-9+()\-. x]{7,}$")
CAPTURES = [
    "v1-2023-08-31-all-plants.json",
    "v1-2024-08-06-ids-0-50-with-errors.json",
    "v1-2025-02-04-ids-1-50-with-errors.json",
]
CURLY = str.maketrans({"\u2018": "'", "\u2019": "'"})


# ---- helpers ----------------------------------------------------------------------------------
def load_capture(name: str) -> list[dict]:
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return list(data.values()) if isinstance(data, dict) else data


def parse_v1_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def parse_rfc1123(text: str) -> datetime:
    return datetime.strptime(text, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)


def body(resp) -> dict:
    return json.loads(resp.body)


def quiet(**kw) -> PlantsSimulator:
    """A simulator with no random faults (so comparisons are about the readings)."""
    kw.setdefault("sensor_fault_rate", 0.0)
    return PlantsSimulator(SimulatorConfig(**kw))


def type_tree(value):
    """The JSON type structure of a value (dict keys kept, list items' types)."""
    if isinstance(value, dict):
        return {k: type_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [type_tree(v) for v in value]
    return type(value).__name__


def catalogue_rows() -> dict[int, dict]:
    with (FIXTURES / "catalog-v1.tsv").open(encoding="utf-8") as f:
        return {int(r["plant_id"]): r for r in csv.DictReader(f, delimiter="\t")}


def poll_rows() -> list[dict]:
    with (FIXTURES / "v1-2024-08-06-20-polls-ids-0-52.readings.csv").open() as f:
        return list(csv.DictReader(f))


def reference_rates() -> dict[int, float]:
    """Drying rate per plant (points/hour), fitted here by least squares from the 20 polls."""
    by = defaultdict(list)
    for r in poll_rows():
        if r["soil_moisture"]:
            hours = (
                parse_v1_time(r["recording_taken"]) - parse_rfc1123(r["last_watered"])
            ).total_seconds() / 3600
            by[int(r["plant_id"])].append((hours, float(r["soil_moisture"])))
    rates = {}
    for pid, pts in by.items():
        med = statistics.median(y for _, y in pts)
        pts = [(x, y) for x, y in pts if abs(y - med) < 5]  # drop the odd glitch reading
        mx = statistics.fmean(x for x, _ in pts)
        my = statistics.fmean(y for _, y in pts)
        slope = sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)
        rates[pid] = -slope
    return rates


def reference_temperatures() -> dict[int, float]:
    by = defaultdict(list)
    for r in poll_rows():
        if r["temperature"]:
            by[int(r["plant_id"])].append(float(r["temperature"]))
    return {pid: statistics.median(ts) for pid, ts in by.items()}


# ---- v1 against every real capture ------------------------------------------------------------
@pytest.mark.parametrize("capture", CAPTURES)
def test_v1_reading_has_the_captures_keys_types_and_formats(capture):
    sim = quiet()
    checked = 0
    for real in load_capture(capture):
        pid = real["plant_id"]
        if "error" in real:
            continue
        at = parse_v1_time(real["recording_taken"])
        resp = sim.respond(pid, at)
        assert resp.status == 200, (pid, resp.body)
        assert resp.content_type.startswith("application/json")
        got = body(resp)
        assert list(got) == sorted(got), "keys come alphabetically"
        assert set(got) == set(real), (pid, set(got) ^ set(real))
        skip = {"soil_moisture", "temperature", "images"}
        assert {k: type_tree(v) for k, v in got.items() if k not in skip} == {
            k: type_tree(v) for k, v in real.items() if k not in skip
        }, pid
        for key in ("soil_moisture", "temperature"):
            assert isinstance(got[key], float) and isinstance(real[key], float)
        # images: same JSON type (object or null) and the same object keys
        assert type(got.get("images")) is type(real.get("images")), pid
        if isinstance(real.get("images"), dict):
            assert type_tree(got["images"]) == type_tree(real["images"])
        # formats
        assert RE_V1_RECORDING.match(got["recording_taken"])
        assert got["recording_taken"] == real["recording_taken"]
        assert RE_RFC1123.match(got["last_watered"])
        assert got["last_watered"] == real["last_watered"], pid
        assert got["plant_id"] == pid
        lat, lon, town, cc, tz = got["origin_location"]
        assert RE_COORD.match(lat) and RE_COORD.match(lon) and RE_CC.match(cc) and RE_TZ.match(tz)
        assert got["origin_location"] == real["origin_location"]
        assert got["botanist"] == real["botanist"]
        assert RE_EMAIL_VALID.match(got["botanist"]["email"])
        assert RE_PHONE.match(got["botanist"]["phone"])
        # the API sent curly quotes in some hours and straight ones in others (2024-08-06)
        assert got["name"].translate(CURLY) == real["name"].translate(CURLY)
        assert got.get("scientific_name") == real.get("scientific_name")
        assert got.get("cycle") == real.get("cycle")
        assert got.get("sunlight") == real.get("sunlight")
        checked += 1
    assert checked >= 45


@pytest.mark.parametrize("capture", CAPTURES)
def test_v1_values_are_close_to_the_captured_values(capture):
    """Moisture within 1 point and temperature within 0.6 C of what the real API said."""
    sim = quiet()
    moisture_ok = temp_ok = n = 0
    for real in load_capture(capture):
        if "error" in real:
            continue
        got = body(sim.respond(real["plant_id"], parse_v1_time(real["recording_taken"])))
        n += 1
        moisture_ok += abs(got["soil_moisture"] - real["soil_moisture"]) < 1.0
        temp_ok += abs(got["temperature"] - real["temperature"]) < 0.6
    # spikes and glitches (a few % of readings, on either side) may miss
    assert moisture_ok >= n - 2
    assert temp_ok >= n - 5


@pytest.mark.parametrize("capture", CAPTURES[1:])
def test_v1_error_bodies_and_statuses_match_the_captures(capture):
    sim = quiet()
    errors = [r for r in load_capture(capture) if "error" in r]
    assert errors
    for real in errors:
        resp = sim.respond(real["plant_id"], datetime(2025, 2, 4, 15, 58, tzinfo=UTC))
        assert resp.status == 404
        assert body(resp) == real


def test_sensor_faults_and_unknown_ids_answer_like_the_api():
    sim = quiet(faults={12: "sensor_fault"})
    at = datetime(2024, 8, 6, 11, 20, tzinfo=UTC)
    resp = sim.respond(12, at)
    assert (resp.status, body(resp)) == (500, {"error": "plant sensor fault", "plant_id": 12})
    for pid in (51, 52, 999):
        resp = sim.respond(pid, at)
        assert (resp.status, body(resp)) == (404, {"error": "plant not found", "plant_id": pid})
    # the ids the 20 polls asked for answer with the same kind of error or a reading
    sim = quiet()
    for r in poll_rows():
        resp = sim.respond(int(r["plant_id"]), at)
        if r["error"] in ("plant not found", "plant on loan to another museum"):
            assert body(resp)["error"] == r["error"]
        elif r["error"] == "":
            assert resp.status == 200


def test_negative_ids_fail_with_a_404_page():
    resp = quiet().respond(-1, datetime(2025, 1, 1, tzinfo=UTC))
    assert resp.status == 404
    assert "Not Found" in resp.body
    with pytest.raises(json.JSONDecodeError):
        json.loads(resp.body)


def test_id_zero_mirrors_the_last_plant_with_plant_id_zero():
    sim = quiet()
    at = datetime(2024, 8, 6, 12, 55, 7, tzinfo=UTC)
    zero, fifty = body(sim.respond(0, at)), body(sim.respond(50, at))
    assert zero["plant_id"] == 0 and fifty["plant_id"] == 50
    real0 = next(r for r in load_capture(CAPTURES[1]) if r["plant_id"] == 0)
    for key in ("name", "botanist", "origin_location", "images", "scientific_name"):
        assert zero[key] == fifty[key] == real0[key]
    assert zero["soil_moisture"] == fifty["soil_moisture"]


def test_catalogue_matches_the_reference_tsv():
    sim = quiet()
    rows = catalogue_rows()
    assert sorted(rows) == [i for i in range(51) if i not in (7, 43)]
    at_2024 = datetime(2024, 8, 6, 12, 0, tzinfo=UTC)
    at_2023 = datetime(2023, 8, 31, 12, 0, tzinfo=UTC)
    for pid, row in rows.items():
        got = body(sim.respond(pid, at_2024))
        assert got["name"] == row["name"]
        assert got["origin_location"] == [row[k] for k in ("lat", "lon", "town", "cc", "tz")]
        assert got["botanist"]["name"] == row["botanist"]
        assert got["last_watered"][17:25] == row["last_watered_time"]
        if row["scientific_name"]:
            assert got["scientific_name"] == [row["scientific_name"]]
        else:
            assert "scientific_name" not in got
        lic = row["image_license"]
        if lic == "(no key)":
            assert "images" not in got
        elif lic == "None":
            assert got["images"] is None
        else:
            assert got["images"]["license_name"] == lic
        old = body(sim.respond(pid, at_2023))
        if pid == 0:  # not polled in 2023; it mirrors plant 50
            assert old["cycle"] == rows[50]["cycle(2023)"]
        elif row["cycle(2023)"]:
            assert old["cycle"] == row["cycle(2023)"]
            assert old["sunlight"] == json.loads(row["sunlight(2023)"].replace("'", '"'))
        else:
            assert "cycle" not in old
        assert "cycle" not in got and "sunlight" not in got  # gone from December 2023
    missing_sci = sum(1 for r in rows.values() if not r["scientific_name"])
    assert 10 <= missing_sci <= 14


def test_index_reports_plants_on_display():
    resp = quiet().index()
    assert resp.status == 200
    assert body(resp) == {"plants_on_display": 49, "success": True}


# ---- how values move ----------------------------------------------------------------------------
def test_moisture_decays_at_the_reference_rate_and_resets_at_watering():
    rates = reference_rates()
    rows = catalogue_rows()
    sim = quiet()
    day = datetime(2026, 3, 10, tzinfo=UTC)
    for pid in (1, 2, 5, 20, 42, 49):
        h, m, s = (int(x) for x in rows[pid]["last_watered_time"].split(":"))
        watered = day + timedelta(hours=h, minutes=m, seconds=s)
        just_after = body(sim.respond(pid, watered + timedelta(seconds=30)))
        assert 99 <= just_after["soil_moisture"] <= 100.5
        assert parse_rfc1123(just_after["last_watered"]) == watered
        just_before = body(sim.respond(pid, watered - timedelta(seconds=1)))
        assert parse_rfc1123(just_before["last_watered"]) == watered - timedelta(days=1)
        assert just_before["soil_moisture"] < 25
        # slope between 2 h and 20 h after watering (median of hourly differences: spikes aside)
        values = [
            body(sim.respond(pid, watered + timedelta(hours=k)))["soil_moisture"]
            for k in range(2, 21)
        ]
        slope = -statistics.median(b - a for a, b in zip(values, values[1:], strict=False))
        assert 3.2 <= slope <= 3.7
        assert slope == pytest.approx(rates[pid], rel=0.02), pid


def test_the_two_fast_drying_plants_go_negative():
    rates = reference_rates()
    rows = catalogue_rows()
    sim = quiet()
    day = datetime(2026, 3, 10, tzinfo=UTC)
    for pid in (16, 47):
        assert rates[pid] == pytest.approx(5.1, abs=0.2)
        h, m, s = (int(x) for x in rows[pid]["last_watered_time"].split(":"))
        watered = day + timedelta(hours=h, minutes=m, seconds=s)
        late = body(sim.respond(pid, watered + timedelta(hours=23)))
        assert late["soil_moisture"] == pytest.approx(100 - 23 * rates[pid], abs=1.5)
        assert late["soil_moisture"] < -10
    others = [
        body(sim.respond(p, day + timedelta(hours=12)))["soil_moisture"]
        for p in range(1, 51)
        if p not in (7, 16, 43, 47)
    ]
    assert sum(1 for v in others if v < 0) <= 1  # only a rare glitch may dip below 0


def test_temperature_stays_near_the_reference_baseline_with_a_few_spikes():
    baselines = reference_temperatures()
    sim = quiet()
    start = datetime(2026, 5, 1, tzinfo=UTC)
    spikes = total = 0
    for pid in range(1, 51):
        if pid in (7, 43):
            continue
        temps = [
            body(sim.respond(pid, start + timedelta(minutes=7 * k)))["temperature"]
            for k in range(300)
        ]
        med = statistics.median(temps)
        assert med == pytest.approx(baselines[pid], abs=0.3), pid
        assert 8.4 <= med <= 15.2
        spikes += sum(1 for t in temps if abs(t - med) > 0.5)
        total += len(temps)
        assert max(temps) < 115
    assert 0.02 <= spikes / total <= 0.06


# ---- determinism and faults ---------------------------------------------------------------------
def test_same_seed_and_time_give_the_same_body_and_seeds_differ():
    at = datetime(2026, 11, 26, 10, 30, tzinfo=UTC)
    a = PlantsSimulator(SimulatorConfig(seed=7))
    b = PlantsSimulator(SimulatorConfig(seed=7))
    c = PlantsSimulator(SimulatorConfig(seed=8))
    same = [a.respond(p, at) == b.respond(p, at) for p in range(0, 60)]
    assert all(same)
    diff = sum(a.respond(p, at).body != c.respond(p, at).body for p in range(1, 51))
    assert diff >= 40
    # and naive datetimes are UTC
    assert a.respond(1, at.replace(tzinfo=None)) == a.respond(1, at)


def test_random_sensor_faults_are_about_two_percent_of_requests():
    sim = PlantsSimulator(SimulatorConfig())
    start = datetime(2026, 1, 1, tzinfo=UTC)
    n = faults = 0
    for k in range(1000):
        at = start + timedelta(minutes=k)
        for pid in range(0, 53):
            resp = sim.respond(pid, at)
            n += 1
            if resp.status == 500:
                assert body(resp) == {"error": "plant sensor fault", "plant_id": pid}
                faults += 1
    assert 0.016 <= faults / n <= 0.024
    # the real 20 polls: 19 faults in 1,022 requests
    real = sum(1 for r in poll_rows() if r["error"] == "plant sensor fault") / len(poll_rows())
    assert abs(faults / n - real) < 0.006


def test_fault_rates_produce_each_kind():
    sim = PlantsSimulator(
        SimulatorConfig(
            sensor_fault_rate=0.02,
            timeout_rate=0.02,
            server_error_rate=0.02,
            html_rate=0.02,
            truncated_rate=0.02,
        )
    )
    kinds = defaultdict(int)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    n = 0
    for k in range(400):
        for pid in range(1, 51):
            r = sim.respond(pid, start + timedelta(minutes=k))
            n += 1
            if r.hang:
                kinds["timeout"] += 1
            elif r.status in (502, 503):
                kinds["server_error" if "<html" not in r.body else "html"] += 1
            elif r.status == 500:
                kinds["sensor_fault"] += 1
            elif "<html" in r.body:
                kinds["html"] += 1
            elif r.status == 200:
                try:
                    json.loads(r.body)
                except json.JSONDecodeError:
                    kinds["truncated"] += 1
    for kind in ("timeout", "server_error", "html", "truncated", "sensor_fault"):
        assert 0.012 <= kinds[kind] / n <= 0.03, (kind, kinds)


def test_forced_faults_per_plant():
    faults = parse_faults("1=timeout,2=server_error,3=html,4=truncated,5=sensor_fault,6=not_found")
    sim = PlantsSimulator(SimulatorConfig(sensor_fault_rate=0.0, faults=faults))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for k in range(20):
        at = start + timedelta(minutes=k)
        assert sim.respond(1, at).hang is True
        r = sim.respond(2, at)
        assert r.status in (502, 503) and len(r.body) < 200
        r = sim.respond(3, at)
        assert r.status in (200, 503) and r.content_type.startswith("text/html")
        assert r.body.lstrip().lower().startswith("<!doctype html>")
        r = sim.respond(4, at)
        assert r.status == 200 and r.body.startswith('{"botanist"')
        with pytest.raises(json.JSONDecodeError):
            json.loads(r.body)
        r = sim.respond(5, at)
        assert (r.status, body(r)) == (500, {"error": "plant sensor fault", "plant_id": 5})
        r = sim.respond(6, at)
        assert (r.status, body(r)) == (404, {"error": "plant not found", "plant_id": 6})
        assert sim.respond(8, at).status == 200
    with pytest.raises(ValueError):
        parse_faults("3=explode")
    with pytest.raises(ValueError):
        SimulatorConfig(shape="v9")


# ---- v2 / v3 shapes -----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", ["v2", "v3"])
def test_later_shapes(shape):
    sim = quiet(shape=shape)
    at = datetime(2026, 2, 4, 15, 58, 15, tzinfo=UTC)
    v1 = quiet()
    names, malformed, titled = set(), 0, 0
    for pid in range(1, 51):
        r = sim.respond(pid, at)
        if pid in (7, 43):
            assert r.status == 404
            continue
        got, old = body(r), body(v1.respond(pid, at))
        assert list(got) == sorted(got)
        assert set(got) == set(old)
        origin = got["origin_location"]
        assert set(origin) == {"latitude", "longitude", "city", "country"}
        coord_type = float if shape == "v2" else str
        assert isinstance(origin["latitude"], coord_type)
        assert isinstance(origin["longitude"], coord_type)
        assert float(origin["latitude"]) == float(old["origin_location"][0])
        assert origin["city"] == old["origin_location"][2]
        assert len(origin["country"]) > 3  # a full name, not a code
        ts = RE_V2_TS if shape == "v2" else RE_V3_TS
        assert ts.match(got["recording_taken"]) and ts.match(got["last_watered"])
        assert got["recording_taken"].startswith("2026-02-04T15:58:15")
        bot = got["botanist"]
        assert set(bot) == {"email", "name", "phone"}
        assert RE_EMAIL_SHAPE.match(bot["email"])
        malformed += not RE_EMAIL_VALID.match(bot["email"])
        titled += bool(re.search(r"\b(Ms|Mr|Mrs|Dr)\.|\bMiss\b|Jr\.|DVM|PhD|MD\b", bot["name"]))
        names.add(bot["name"])
        assert got["soil_moisture"] == old["soil_moisture"]
    assert len(names) >= 40  # one botanist per plant (a few name clashes allowed)
    assert 3 <= malformed <= 30 and titled >= 5


def test_v2_countries_are_full_names():
    sim = quiet(shape="v2")
    got = body(sim.respond(1, datetime(2025, 6, 1, tzinfo=UTC)))
    assert got["origin_location"]["country"] == "United States"
    got = body(sim.respond(8, datetime(2025, 6, 1, tzinfo=UTC)))
    assert got["origin_location"]["country"] == "Côte d'Ivoire"


# ---- scale ---------------------------------------------------------------------------------
def test_ten_thousand_generated_plants():
    sim = quiet(plants=10_000)
    at = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    responses = {pid: sim.respond(pid, at) for pid in range(0, 10_002)}
    assert responses[10_001].status == 404
    ok = {pid: body(r) for pid, r in responses.items() if r.status == 200}
    assert len(ok) == 10_000 - 2 + 1  # 1..10000 minus 7 and 43, plus 0
    assert ok[0]["name"] == ok[10_000]["name"] and ok[0]["plant_id"] == 0
    botanists = {json.dumps(b["botanist"], sort_keys=True) for b in ok.values()}
    assert 3 < len(botanists) <= 15
    watered = [b["last_watered"][17:25] for b in ok.values()]
    assert min(watered) >= "13:00:00" and max(watered) <= "15:00:00"
    moist = [b["soil_moisture"] for p, b in ok.items() if p > 50]
    assert sum(1 for m in moist if m < 100 - 5.0 * 21) >= 100  # fast-drying plants exist
    assert sum(1 for b in ok.values() if b["name"].endswith(",")) >= 50
    assert sum(1 for b in ok.values() if "scientific_name" not in b) >= 1000
    again = quiet(plants=10_000, seed=1)
    assert body(again.respond(7777, at))["name"] == ok[7777]["name"]  # catalogue ignores seed
    assert body(quiet(plants=200).respond(150, at)) == ok[150]


def test_respond_is_fast():
    sim = PlantsSimulator(SimulatorConfig())
    start = datetime(2026, 11, 26, tzinfo=UTC)
    times = [start + timedelta(minutes=k) for k in range(600)]
    t0 = time.perf_counter()
    n = 0
    for at in times:
        for pid in range(1, 51):
            sim.respond(pid, at)
            n += 1
    rate = n / (time.perf_counter() - t0)
    assert rate > 20_000, f"{rate:.0f} responses/s"


# ---- clock --------------------------------------------------------------------------------------
def test_step_clock_gives_minutely_readings_per_plant():
    start = parse_start("2026-11-26T00:00:00")
    clock = Clock(start=start, step_s=60)
    sim = quiet()
    taken = [body(sim.respond(1, clock.now(1)))["recording_taken"] for _ in range(5)]
    assert taken == [f"2026-11-26 00:0{k}:00" for k in range(5)]
    assert clock.now(2) == start  # each id has its own time
    assert clock.now(2) == start + timedelta(minutes=1)
    assert clock.now() == start + timedelta(minutes=4)  # no id: the most advanced, unchanged
    assert clock.now(1) == start + timedelta(minutes=5)


def test_scaled_and_real_clocks():
    start = parse_start("2026-11-26T00:00:00Z")
    clock = Clock(start=start, speed=600)
    time.sleep(0.2)
    elapsed = (clock.now() - start).total_seconds()
    assert 100 <= elapsed <= 200
    real = Clock()
    assert abs((real.now() - datetime.now(UTC)).total_seconds()) < 1
    assert parse_start("2026-11-26T01:00:00+01:00") == start


# ---- HTTP end to end ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness.simulator",
            "--port",
            "0",
            "--sensor-fault-rate",
            "0",
            "--faults",
            "3=html,4=timeout",
            "--hang-seconds",
            "30",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    match = re.search(r"http://[0-9.]+:\d+", line)
    assert match, line + proc.stderr.read()
    yield proc, match.group(0)
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def get(url: str, timeout: float = 5.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.headers["Content-Type"], r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read().decode()


def test_http_server_end_to_end(server):
    _, url = server
    status, ctype, text = get(url + "/plants/1")
    assert status == 200 and ctype.startswith("application/json")
    real = next(r for r in load_capture(CAPTURES[2]) if r["plant_id"] == 1)
    got = json.loads(text)
    assert set(got) == set(real) and got["botanist"] == real["botanist"]
    assert RE_V1_RECORDING.match(got["recording_taken"])
    lag = datetime.now(UTC) - parse_v1_time(got["recording_taken"])
    assert abs(lag.total_seconds()) < 5
    assert get(url + "/plants/7")[:1] == (404,)
    assert json.loads(get(url + "/plants/7")[2]) == {"error": "plant not found", "plant_id": 7}
    assert json.loads(get(url + "/plants/43")[2]) == {
        "error": "plant on loan to another museum",
        "plant_id": 43,
    }
    status, _, text = get(url + "/plants/999")
    assert (status, json.loads(text)) == (404, {"error": "plant not found", "plant_id": 999})
    status, _, text = get(url + "/")
    assert (status, json.loads(text)) == (200, {"plants_on_display": 49, "success": True})
    status, ctype, text = get(url + "/plants/3")
    assert ctype.startswith("text/html") and "<html" in text
    assert get(url + "/plants/-2")[0] == 404
    t0 = time.monotonic()
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        get(url + "/plants/4", timeout=1.0)
    assert time.monotonic() - t0 < 3


def test_http_server_stops_cleanly_on_sigterm(server):
    proc, url = server
    assert get(url + "/")[0] == 200
    proc.terminate()
    assert proc.wait(timeout=10) == 0


# ---- faults per request, as the real API (issue 10) ---------------------------------------------
def test_a_re_ask_in_the_same_minute_is_a_fresh_draw():
    """The real API answered 0 of 24 same-minute re-asks with a fault again."""
    sim = PlantsSimulator(SimulatorConfig())
    start = datetime(2026, 1, 1, tzinfo=UTC)
    faulted = again = 0
    for k in range(600):
        at = start + timedelta(minutes=k, seconds=7)
        for pid in range(1, 51):
            if sim.respond(pid, at).status != 500:
                continue
            faulted += 1
            retry = sim.respond(pid, at + timedelta(seconds=1), request=1)
            again += retry.status == 500
    assert faulted > 400  # ~2 % of 30,000
    assert again / faulted < 0.06  # about the fault rate itself, never "the rest of the minute"
    # in-process answers stay reproducible: the same (seed, plant, time, request), the same body
    other = PlantsSimulator(SimulatorConfig())
    assert all(sim.respond(p, start, 3) == other.respond(p, start, 3) for p in range(60))


def test_re_asks_over_http_fault_independently(simulator_server):
    url = simulator_server(
        "--sensor-fault-rate", "0.3", "--start", "2026-11-26T00:00:00", "--speed", "0"
    )
    after_fault = []
    for pid in (1, 2, 3, 4, 5):
        statuses = [get(f"{url}/plants/{pid}")[0] for _ in range(40)]
        after_fault += [b for a, b in zip(statuses, statuses[1:], strict=False) if a == 500]
        assert {200, 500} <= set(statuses), (pid, statuses)  # the same frozen second, both
    assert 0.1 < after_fault.count(500) / len(after_fault) < 0.55  # ~0.3, not 1


def test_ingest_retries_get_past_sensor_faults(simulator_server):
    """With faults for the rest of the minute every retry failed; now three retries mostly win."""
    from ingest.fetch import FetchOptions, poll

    url = simulator_server(
        "--sensor-fault-rate", "0.3", "--start", "2026-11-26T00:00:00", "--speed", "0"
    )
    options = FetchOptions(api_url=url, retries=3, backoff_initial_s=0.01, backoff_max_s=0.05)
    outcomes = poll(range(1, 51), options)
    faults = [o for o in outcomes if o.kind == "sensor_fault"]
    retried = [o for o in outcomes if o.is_reading and o.attempts > 1]
    assert len(faults) <= 3, faults  # 48 plants x 0.3^4 = 0.4 expected
    assert len(retried) >= 5  # ~30 % needed a retry and got their reading


def test_backfill_answers_are_reproducible():
    from harness.backfill import poll_times, simulate_polls

    times = poll_times(3, datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    first = simulate_polls(PlantsSimulator(SimulatorConfig()), range(1, 51), times).tables()
    second = simulate_polls(PlantsSimulator(SimulatorConfig()), range(1, 51), times).tables()
    assert [t.equals(u) for t, u in zip(first, second, strict=True)] == [True, True, True]
    assert first[1].num_rows > 0  # sensor faults among them


# ---- v2/v3 fractions and name variants ----------------------------------------------------------
@pytest.mark.parametrize("shape", ["v2", "v3"])
def test_later_shapes_carry_real_fractions_of_a_second(shape):
    sim = quiet(shape=shape)
    digits = 3 if shape == "v2" else 6
    fraction = re.compile(r"\.(\d+)Z?$")
    recorded, watered = defaultdict(set), defaultdict(set)
    for day in range(3):
        at = datetime(2026, 2, 4 + day, 15, 58, 15, tzinfo=UTC)
        for pid in DISPLAYED_V1:
            got = body(sim.respond(pid, at))
            recorded[pid].add(fraction.search(got["recording_taken"]).group(1))
            watered[pid].add(fraction.search(got["last_watered"]).group(1))
    every = {f for fs in recorded.values() for f in fs}
    assert all(len(f) == digits for f in every)
    assert len(every) >= 100  # of 144 readings: not always .000 as the simulator once sent
    # the daily watering time is the plant's own, to the fraction: the same every day
    assert all(len(fs) == 1 for fs in watered.values())
    assert len({next(iter(fs)) for fs in watered.values()}) >= 40


DISPLAYED_V1 = [i for i in range(1, 51) if i not in (7, 43)]


def test_quoted_names_come_curly_or_straight_as_the_captures_do():
    sim = quiet()
    start = datetime(2026, 11, 1, tzinfo=UTC)
    quoted = (13, 15, 18)  # Canna ‘Striata’, Cuphea ‘David Verity’, Manihot ... ‘Variegata’
    styles = []
    for hour in range(240):
        at = start + timedelta(hours=hour, minutes=17)
        names = [body(sim.respond(pid, at))["name"] for pid in quoted]
        curly = ["\u2018" in n and "\u2019" in n for n in names]
        straight = ["'" in n and "\u2018" not in n for n in names]
        assert all(c != s for c, s in zip(curly, straight, strict=True)), names  # one or other
        assert len(set(curly)) == 1, names  # one style for the whole API at a time, as captured
        styles.append("curly" if curly[0] else "straight")
    share = styles.count("straight") / len(styles)
    assert 0.2 < share < 0.47
    # and the rest of the name never changes
    assert body(sim.respond(13, start))["name"].translate(CURLY) == "Canna 'Striata'"


# ---- a busy port ---------------------------------------------------------------------------------
def test_a_busy_port_is_one_line_not_a_traceback():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        direct = subprocess.run(
            [sys.executable, "-m", "harness.simulator", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
        through_make = subprocess.run(
            ["make", "-s", "simulate", f"SIM_ARGS=--port {port}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert direct.returncode == 1
    [line] = direct.stderr.strip().splitlines()
    assert line == (
        f"simulator: port {port} on 127.0.0.1 is already in use "
        '(choose another: --port N, or make simulate SIM_ARGS="--port N")'
    )
    assert through_make.returncode != 0
    assert line in through_make.stderr and "Traceback" not in through_make.stderr
