"""Build e-mail messages (plain text + simple HTML) from Jinja2 templates.

HTML templates are autoescaped, so a plant named ``<script>`` reaches the reader as text.
Header values are flattened to one line, so no value from the API can add a header.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, tzinfo
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import jinja2

from lnhm.settings import Settings
from lnhm.timefmt import format_local_and_utc
from lnhm.units import format_bytes

TEMPLATES = Path(__file__).with_name("templates")

# The words for each incident kind (label, advice, what the worst value is and its unit) are
# not written here: they come from the seed incident_kinds through marts.dim_incident_kinds,
# which the callers pass to the templates as ``kinds`` (code -> row).


def _kind(context, kind: str) -> dict:
    return (context.get("kinds") or {}).get(kind) or {}


@jinja2.pass_context
def worst_text(context, kind: str, value) -> str:
    """``Lowest soil moisture: 6.5 %`` for an incident's worst value."""
    row = _kind(context, kind)
    label = row.get("worst_value_label") or "Worst value"
    digits = row.get("worst_value_digits")
    digits = 1 if digits is None else int(digits)
    return f"{label}: {fmt_num(value, row.get('worst_value_unit') or '', digits)}"


@jinja2.pass_context
def threshold_text(context, kind: str, value) -> str:
    """``5.0 %``: the threshold an incident broke, in its kind's unit and digits."""
    row = _kind(context, kind)
    digits = row.get("worst_value_digits")
    digits = 1 if digits is None else int(digits)
    return fmt_num(value, row.get("worst_value_unit") or "", digits)


@jinja2.pass_context
def problem_label(context, kind: str) -> str:
    return _kind(context, kind).get("label") or str(kind).replace("_", " ").capitalize()


@jinja2.pass_context
def problem_advice(context, kind: str) -> str:
    return _kind(context, kind).get("advice") or "Please check the plant."


def fmt_when(value: datetime | None, tz: tzinfo = UTC) -> str:
    """A time on the museum's wall clock with the UTC time beside it ("Wed 01 Jul 2026 14:00
    BST (13:00 UTC)"): the site shows the same wall clock (lnhm.timefmt, one helper for both)."""
    if value is None:
        return "unknown"
    return format_local_and_utc(value, tz)


@jinja2.pass_context
def when_filter(context, value: datetime | None) -> str:
    """The templates' ``when``: in the zone render() puts in the context (LNHM_TIMEZONE)."""
    return fmt_when(value, context.get("timezone") or UTC)


def fmt_num(value, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "n/a"
    try:
        text = f"{float(value):.{digits}f}"
    except (TypeError, ValueError):
        return str(value)
    return f"{text} {unit}" if unit else text


def fmt_bytes(value) -> str:
    return "n/a" if value is None else format_bytes(value)


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
        when=when_filter,
        num=fmt_num,
        worst=worst_text,
        threshold=threshold_text,
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
    full = {
        "subject": subject,
        "problem_email": settings.problem_report_email,
        "timezone": settings.timezone,  # the templates' times: the museum's wall clock
        **context,
    }
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
