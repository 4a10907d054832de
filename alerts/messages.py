"""Build e-mail messages (plain text + simple HTML) from Jinja2 templates.

HTML templates are autoescaped, so a plant named ``<script>`` reaches the reader as text.
Header values are flattened to one line, so no value from the API can add a header.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import jinja2

from lnhm.settings import Settings

TEMPLATES = Path(__file__).with_name("templates")

# kind -> (what is wrong, what the botanist can do)
PROBLEMS: dict[str, tuple[str, str]] = {
    "moisture_low": (
        "Soil moisture too low",
        "Please check the plant and water it if the soil is dry.",
    ),
    "moisture_high": (
        "Soil moisture too high",
        "Please check for over-watering or poor drainage.",
    ),
    "temperature_low": (
        "Temperature too low",
        "Please check the plant's position and the room's heating.",
    ),
    "temperature_high": (
        "Temperature too high",
        "Please check the plant's position, direct sun and ventilation.",
    ),
    "baseline_deviation": (
        "Temperature far from this plant's usual values",
        "Please check the plant and its sensor.",
    ),
    "no_reading": (
        "No readings received",
        "Please check that the plant's sensor is in place, connected and powered.",
    ),
    "sensor_faults": ("Repeated sensor faults", "Please check the plant's sensor."),
    "not_watered": (
        "Not watered when expected",
        "Please water the plant, or check its watering log.",
    ),
}

# kind -> (what marts.anomalies.worst_value means, its unit, decimals)
WORST: dict[str, tuple[str, str, int]] = {
    "moisture_low": ("Lowest soil moisture", "%", 1),
    "moisture_high": ("Highest soil moisture", "%", 1),
    "temperature_low": ("Lowest temperature", "°C", 1),
    "temperature_high": ("Highest temperature", "°C", 1),
    "baseline_deviation": ("Furthest temperature from baseline", "°C", 1),
    "no_reading": ("Minutes without a reading", "min", 0),
    "sensor_faults": ("Sensor faults in a row", "", 0),
}


def worst_text(kind: str, value) -> str:
    """``Lowest soil moisture: 6.5 %`` for an anomaly's worst value."""
    label, unit, digits = WORST.get(kind, ("Worst value", "", 1))
    return f"{label}: {fmt_num(value, unit, digits)}"


def problem_label(kind: str) -> str:
    return PROBLEMS.get(kind, (kind.replace("_", " ").capitalize(), ""))[0]


def problem_advice(kind: str) -> str:
    return PROBLEMS.get(kind, ("", "Please check the plant."))[1]


def fmt_when(value: datetime | None) -> str:
    if value is None:
        return "unknown"
    return value.strftime("%a %d %b %Y %H:%M UTC")


def fmt_num(value, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "n/a"
    try:
        text = f"{float(value):.{digits}f}"
    except (TypeError, ValueError):
        return str(value)
    return f"{text} {unit}" if unit else text


def fmt_bytes(value) -> str:
    if value is None:
        return "n/a"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def one_line(text: str, limit: int = 180) -> str:
    """Header-safe text: control characters and line breaks become spaces."""
    flat = re.sub(r"[\x00-\x1f\x7f]+", " ", str(text))
    flat = re.sub(r"\s+", " ", flat).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=lambda name: bool(name) and name.endswith(".html.j2"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        when=fmt_when,
        num=fmt_num,
        worst=worst_text,
        bytes=fmt_bytes,
        label=problem_label,
        advice=problem_advice,
    )
    return env


def render(
    settings: Settings,
    template: str,
    context: dict,
    *,
    subject: str,
    to: str,
    alert_key: str,
    message_kind: str,
) -> EmailMessage:
    """Render ``<template>.txt.j2`` and ``<template>.html.j2`` into one multipart message."""
    env = environment()
    full = {"subject": subject, "problem_email": settings.problem_report_email, **context}
    text = env.get_template(f"{template}.txt.j2").render(full)
    html = env.get_template(f"{template}.html.j2").render(full)
    message = EmailMessage()
    message["Subject"] = one_line(subject)
    message["From"] = settings.mail_from
    message["To"] = one_line(to)
    message["Date"] = formatdate(usegmt=True)
    domain = settings.mail_from.rpartition("@")[2] or "lnhm.example"
    message["Message-ID"] = make_msgid(idstring="lnhm-alert", domain=domain)
    message["X-LNHM-Alert-Key"] = one_line(alert_key)
    message["X-LNHM-Message-Kind"] = message_kind
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
