"""The plant catalogue the simulator serves.

Ids 0-50 come from the real v1 API as captured (``catalog_v1.json``, copied from the reference
captures 2023-08-31, 2024-08-06 and 2025-02-04): names as messy as observed, the three v1
botanists, origins as 5-string lists, scientific names and images where the API sent them, each
plant's daily watering time, and the drying rate and temperature baseline fitted from 20
consecutive real polls. Id 7 is "not found", id 43 is "on loan", id 0 mirrors the last plant.

Plants above 50 (``--plants N``) are generated deterministically from the plant id alone, so the
same id always describes the same plant whatever the seed or the catalogue size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).with_name("catalog_v1.json")
V1_SIZE = 50
NOT_FOUND_IDS = frozenset({7})
ON_LOAN_IDS = frozenset({43})
FAST_DRY_RATE = 5.1429  # plants 16 and 47: fitted from the 2024-08-06 polls
MISSING = object()  # a key the API does not send at all (as opposed to JSON null)

COUNTRY_NAMES = {
    "AR": "Argentina",
    "AU": "Australia",
    "BG": "Bulgaria",
    "BR": "Brazil",
    "BW": "Botswana",
    "CA": "Canada",
    "CI": "Côte d'Ivoire",
    "CL": "Chile",
    "CN": "China",
    "CO": "Colombia",
    "DE": "Germany",
    "DZ": "Algeria",
    "EG": "Egypt",
    "ES": "Spain",
    "FR": "France",
    "GB": "United Kingdom",
    "GH": "Ghana",
    "HR": "Croatia",
    "ID": "Indonesia",
    "IN": "India",
    "IT": "Italy",
    "JP": "Japan",
    "KE": "Kenya",
    "LY": "Libya",
    "MG": "Madagascar",
    "MW": "Malawi",
    "MX": "Mexico",
    "MY": "Malaysia",
    "NG": "Nigeria",
    "NZ": "New Zealand",
    "PE": "Peru",
    "PH": "Philippines",
    "SD": "Sudan",
    "SV": "El Salvador",
    "TN": "Tunisia",
    "TZ": "Tanzania, United Republic of",
    "UA": "Ukraine",
    "US": "United States",
    "VN": "Viet Nam",
    "ZA": "South Africa",
}

# Extra origins for generated plants: (lat, lon, town, cc, tz), strings as the API sends them.
EXTRA_ORIGINS = [
    ("-33.92584", "18.42322", "Cape Town", "ZA", "Africa/Johannesburg"),
    ("-1.28333", "36.81667", "Nairobi", "KE", "Africa/Nairobi"),
    ("-18.91368", "47.53613", "Antananarivo", "MG", "Indian/Antananarivo"),
    ("5.55602", "-0.1969", "Accra", "GH", "Africa/Accra"),
    ("30.06263", "31.24967", "Cairo", "EG", "Africa/Cairo"),
    ("-12.04318", "-77.02824", "Lima", "PE", "America/Lima"),
    ("4.60971", "-74.08175", "Bogota", "CO", "America/Bogota"),
    ("-34.61315", "-58.37723", "Buenos Aires", "AR", "America/Argentina/Buenos_Aires"),
    ("3.1412", "101.68653", "Kuala Lumpur", "MY", "Asia/Kuala_Lumpur"),
    ("21.0245", "105.84117", "Hanoi", "VN", "Asia/Bangkok"),
    ("-27.46794", "153.02809", "Brisbane", "AU", "Australia/Brisbane"),
    ("-41.28664", "174.77557", "Wellington", "NZ", "Pacific/Auckland"),
    ("53.41058", "-2.97794", "Liverpool", "GB", "Europe/London"),
    ("51.4779", "-0.2919", "Richmond", "GB", "Europe/London"),
    ("25.77427", "-80.19366", "Miami", "US", "America/New_York"),
    ("19.42847", "-99.12766", "Mexico City", "MX", "America/Mexico_City"),
]

# Extra species for generated plants: (name as the API might spell it, scientific name or None).
EXTRA_SPECIES = [
    ("Snake plant", "Dracaena trifasciata"),
    ("Peace Lily", None),
    ("String Of Pearls", "Curio rowleyanus"),
    ("Jade plant,", "Crassula ovata"),
    ("Bromeliad ‘Guzmania’", None),
    ("Staghorn Fern", "Platycerium bifurcatum"),
    ("Bird’s Nest Fern", "Asplenium nidus"),
    ("Moth orchid", "Phalaenopsis amabilis"),
    ("Zebra Plant", "Aphelandra squarrosa"),
    ("Calathea Orbifolia", "Goeppertia orbifolia"),
    ("Maidenhair fern", None),
    ("Rubber Plant", "Ficus elastica"),
    ("Fiddle Leaf Fig", "Ficus lyrata"),
    ("Kentia Palm", "Howea forsteriana"),
    ("Strelitzia Nicolai", "Strelitzia nicolai"),
    ("Hoya Carnosa ‘Krimson Queen’", None),
    ("Tillandsia", None),
    ("Welwitschia", "Welwitschia mirabilis"),
    ("Dragon Fruit", "Selenicereus undatus"),
    ("Coffee plant", "Coffea arabica"),
    ("Cocoa tree", "Theobroma cacao"),
    ("Vanilla Orchid", "Vanilla planifolia"),
    ("Titan arum", "Amorphophallus titanum"),
    ("Sensitive Plant", "Mimosa pudica"),
]

# The small pool of botanists generated plants are assigned to in v1 (plain names, like v1's).
EXTRA_BOTANISTS = [
    ("Marianne North", "+44 151 478 4393"),
    ("Joseph Hooker", "001-515-377-0921x8812"),
    ("Janaki Ammal", "(312)555-0174"),
    ("Ynes Mexia", "415.555.0199"),
    ("Agnes Arber", "+1-617-555-0143x042"),
    ("Asa Gray", "617-555-0111"),
    ("Anna Atkins", "(020)7946-0958x1"),
    ("Jane Colden", "518.555.0164x20"),
    ("Alexander von Humboldt", "+49-30-5550-1769"),
]

# v2/v3: each plant has its own botanist, named with titles and suffixes.
TITLES = ["Ms.", "Mr.", "Dr.", "Mrs.", "Miss", "", "", "", "", "", "", ""]
SUFFIXES = ["Jr.", "DVM", "PhD", "MD", "II", "Sr."]
FIRST_NAMES = [
    "Diana",
    "Samuel",
    "Priya",
    "Olumide",
    "Grace",
    "Henrik",
    "Mei",
    "Tomasz",
    "Amara",
    "Luis",
    "Fatima",
    "Kenji",
    "Isla",
    "Rafael",
    "Ngozi",
    "Erik",
    "Sofia",
    "Arjun",
    "Chloe",
    "Mateo",
    "Aiyana",
    "Bjorn",
    "Leila",
    "Kwame",
    "Hannah",
    "Yusuf",
    "Elena",
    "Tariq",
    "Ruth",
    "Oscar",
]
LAST_NAMES = [
    "King",
    "Okafor",
    "Nakamura",
    "Fernandez",
    "Schmidt",
    "Patel",
    "O'Brien",
    "Nowak",
    "Haddad",
    "Lindqvist",
    "Mensah",
    "Rossi",
    "Chen",
    "Dubois",
    "Kowalski",
    "Mwangi",
    "Silva",
    "Tanaka",
    "Murphy",
    "Johansson",
    "Adeyemi",
    "Garcia",
    "Novak",
    "Evans",
    "Ibrahim",
    "Moreau",
]
PHONE_FORMATS = [
    "{a}-{b}-{c}",
    "({a}){b}-{c}",
    "001-{a}-{b}-{c}x{x}",
    "({a}){b}-{c}x{x}",
    "{a}.{b}.{c}",
    "+1-{a}-{b}-{c}",
    "{a}{b}{c}",
    "{a}-{b}-{c}x{x}",
    "+1-{a}-{b}-{c}x{x}",
    "{a}.{b}.{c}x{x}",
]


def _mix64(x: int) -> int:
    """splitmix64 finaliser: a cheap, well-spread 64-bit hash of an int."""
    x = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 31)


def _unit(*parts: int) -> float:
    """A deterministic uniform float in [0, 1) from a few ints."""
    h = 0
    for p in parts:
        h = _mix64(h ^ (p & 0xFFFFFFFFFFFFFFFF))
    return h / 18446744073709551616.0


def _pick(seq, *parts):
    return seq[int(_unit(*parts) * len(seq))]


@dataclass(frozen=True)
class Plant:
    """Static facts about one plant id (everything except the moving readings)."""

    plant_id: int
    name: str
    botanist: dict[str, str]  # v1 botanist {email, name, phone}
    botanist_v2: dict[str, str]  # v2/v3 per-plant botanist with titles
    origin: tuple[str, str, str, str, str]  # lat, lon, town, country code, tz (strings)
    watering_s: int  # seconds after midnight UTC of the daily watering
    dry_rate_per_hour: float
    temperature_baseline: float
    scientific_name: Any = MISSING  # list[str] or MISSING
    images: Any = MISSING  # dict, None (JSON null) or MISSING; 2024 onwards
    images_2023: Any = MISSING  # what the API sent for images before December 2023
    cycle: Any = MISSING  # 2023 only
    sunlight: Any = MISSING  # 2023 only

    @property
    def country_name(self) -> str:
        return COUNTRY_NAMES.get(self.origin[3], self.origin[3])


@lru_cache(maxsize=1)
def _data() -> dict:
    with DATA_FILE.open(encoding="utf-8") as f:
        return json.load(f)


def _seconds(hms: str) -> int:
    h, m, s = (int(x) for x in hms.split(":"))
    return h * 3600 + m * 60 + s


def _v2_botanist(plant_id: int) -> dict[str, str]:
    """A per-plant botanist as v2 sent them: titles in names, e-mails derived naively."""
    first = _pick(FIRST_NAMES, plant_id, 11)
    last = _pick(LAST_NAMES, plant_id, 12)
    title = _pick(TITLES, plant_id, 13)
    suffix = _pick(SUFFIXES, plant_id, 14) if _unit(plant_id, 15) < 0.15 else ""
    name = " ".join(p for p in (title, first, last, suffix) if p)
    # The generator lower-cased the full name and joined on dots, keeping the titles' dots:
    # "Ms. Diana King" -> "ms..diana.king@lnhm.co.uk" (a malformed address, as observed).
    local = ".".join(name.lower().replace("'", "").split(" "))
    email = f"{local}@lnhm.co.uk"
    return {"email": email, "name": name, "phone": _phone(plant_id, 16)}


def _phone(*parts: int) -> str:
    fmt = _pick(PHONE_FORMATS, *parts)
    a = 200 + int(_unit(*parts, 1) * 799)
    b = 100 + int(_unit(*parts, 2) * 899)
    c = int(_unit(*parts, 3) * 10000)
    x = int(_unit(*parts, 4) * 10 ** (1 + int(_unit(*parts, 5) * 5)))
    return fmt.format(a=a, b=b, c=f"{c:04d}", x=x)


def _botanist_dict(name: str, phone: str) -> dict[str, str]:
    return {"email": ".".join(name.lower().split()) + "@lnhm.co.uk", "name": name, "phone": phone}


@lru_cache(maxsize=1)
def v1_botanists() -> tuple[dict[str, str], ...]:
    """The three v1 botanists (as captured) then the generated pool, in a fixed order."""
    real = [dict(b) for b in _data()["botanists"].values()]
    return tuple(real + [_botanist_dict(n, p) for n, p in EXTRA_BOTANISTS])


@lru_cache(maxsize=1)
def _v1_plants() -> dict[int, Plant]:
    data = _data()
    bots = data["botanists"]
    out = {}
    for key, p in data["plants"].items():
        pid = int(key)
        out[pid] = Plant(
            plant_id=pid,
            name=p["name"],
            botanist=dict(bots[p["botanist"]]),
            botanist_v2=_v2_botanist(pid),
            origin=tuple(p["origin_location"]),
            watering_s=_seconds(p["watering_time"]),
            dry_rate_per_hour=p["dry_rate_per_hour"],
            temperature_baseline=p["temperature_baseline"],
            scientific_name=p.get("scientific_name", MISSING),
            images=p.get("images", MISSING),
            images_2023=p.get("images_2023", MISSING),
            cycle=p.get("cycle", MISSING),
            sunlight=p.get("sunlight", MISSING),
        )
    return out


def _origin_pool() -> list[tuple[str, str, str, str, str]]:
    seen = {}
    for p in _v1_plants().values():
        seen.setdefault(p.origin, None)
    for o in EXTRA_ORIGINS:
        seen.setdefault(o, None)
    return list(seen)


@lru_cache(maxsize=1)
def _pools():
    v1 = [p for pid, p in sorted(_v1_plants().items()) if pid != 0]
    return v1, _origin_pool()


def _messy(name: str, plant_id: int) -> str:
    """Make a name as messy as v1's: odd case, a trailing comma, curly quotes."""
    u = _unit(plant_id, 21)
    if u < 0.06:
        return name + ","
    if u < 0.14:
        return name.title()
    if u < 0.18:
        return name.lower()
    if u < 0.21:
        return name + " "
    return name


def generated_plant(plant_id: int) -> Plant:
    """Plant ``plant_id`` (> 50), a pure function of the id."""
    v1, origins = _pools()
    u = _unit(plant_id, 1)
    if u < 0.7:  # most generated plants are more of the museum's species
        template = _pick(v1, plant_id, 2)
        name = template.name
        sci = template.scientific_name
        images = template.images
        cycle, sunlight = template.cycle, template.sunlight
    else:
        name, sci_name = _pick(EXTRA_SPECIES, plant_id, 3)
        sci = [sci_name] if sci_name else MISSING
        images = MISSING if _unit(plant_id, 4) < 0.5 else None
        cycle = sunlight = MISSING
    fast = _unit(plant_id, 6) < 0.04
    rate = FAST_DRY_RATE if fast else round(3.27 + 0.33 * _unit(plant_id, 7), 4)
    return Plant(
        plant_id=plant_id,
        name=_messy(name, plant_id),
        botanist=dict(_pick(v1_botanists(), plant_id, 8)),
        botanist_v2=_v2_botanist(plant_id),
        origin=_pick(origins, plant_id, 9),
        watering_s=13 * 3600 + int(_unit(plant_id, 10) * 7200),
        dry_rate_per_hour=rate,
        temperature_baseline=round(8.6 + 6.4 * _unit(plant_id, 17), 3),
        scientific_name=sci,
        images=images,
        images_2023=images,
        cycle=cycle,
        sunlight=sunlight,
    )


class Catalogue:
    """The plants of one simulated API with ``size`` plant ids (1..size)."""

    def __init__(self, size: int = V1_SIZE):
        if size < 1:
            raise ValueError("the catalogue needs at least one plant")
        self.size = size
        self._cache: dict[int, Plant] = {}

    def status(self, plant_id: int) -> str:
        """'ok', 'not_found', 'on_loan' or 'invalid' (negative id) for an id."""
        if plant_id < 0:
            return "invalid"
        if plant_id > self.size or plant_id in NOT_FOUND_IDS:
            return "not_found"
        if plant_id in ON_LOAN_IDS:
            return "on_loan"
        if plant_id == 0:
            return self.status(self.size)
        return "ok"

    def source_id(self, plant_id: int) -> int:
        """Whose data an id serves: 0 mirrors the last plant (the API indexed plants[id - 1])."""
        return self.size if plant_id == 0 else plant_id

    def plant(self, plant_id: int) -> Plant:
        """Static facts for a displayable id 1..size (0 is served from ``source_id``)."""
        p = self._cache.get(plant_id)
        if p is None:
            p = _v1_plants()[plant_id] if plant_id <= V1_SIZE else generated_plant(plant_id)
            self._cache[plant_id] = p
        return p

    @property
    def plants_on_display(self) -> int:
        """What GET / reports: ids 1..size minus the ones the API does not find (49 for 50)."""
        return self.size - sum(1 for i in NOT_FOUND_IDS if i <= self.size)
