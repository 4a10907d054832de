"""Small, fast time-series charts drawn as inline SVG (the per-plant charts).

Why not Altair here: rendering an Altair/Vega-Lite spec with vl-convert took 100-300 ms a
chart on this project's 2-core machines (measured, see README), i.e. minutes for 1,000 plants
with two charts each. These charts are simple (lines, a band, rules, markers), so they are
drawn directly: ~1 ms each, no JavaScript, crisp in print, and every label escaped.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from html import escape

WIDTH = 820
PANEL_HEIGHT = 150
LEFT, RIGHT, TOP, GAP, BOTTOM = 56, 12, 10, 34, 26
INK, MUTED, GRID = "#1b1b1b", "#555", "#e1e5ea"
LINE, BAND, SPREAD, ALERT, WATER = "#1f5f8b", "#9aa5b1", "#b9d3e6", "#b3261e", "#1565c0"


def _t(value) -> float:
    if isinstance(value, datetime):
        return value.timestamp() if value.tzinfo else (value - datetime(1970, 1, 1)).total_seconds()
    if isinstance(value, date):
        return (datetime.combine(value, datetime.min.time()) - datetime(1970, 1, 1)).total_seconds()
    return float(value)


def _dt(seconds: float) -> datetime:
    return datetime(1970, 1, 1) + timedelta(seconds=seconds)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step) * step
    ticks = []
    value = first
    while value <= hi + 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def time_ticks(start: float, end: float, tz=UTC) -> tuple[list[float], str]:
    """Ticks and their strftime format; hours fall on the museum's wall clock (every 3 h)."""
    span = end - start
    hour, day = 3600, 86400
    if span <= 2 * day:
        step, fmt = 3 * hour, "%H:%M"
    elif span <= 16 * day:
        step, fmt = day, "%d %b"
    elif span <= 100 * day:
        step, fmt = 7 * day, "%d %b"
    else:
        # first of each month (every second/third month on long spans)
        months = []
        d = _dt(start).date().replace(day=1)
        every = 1 if span <= 400 * day else 3
        while _t(d) <= end:
            if _t(d) >= start and (d.month - 1) % every == 0:
                months.append(_t(d))
            d = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
        return months, "%b %Y"
    # the zone's offset at the start, so hour ticks fall on 00:00, 03:00, ... local time
    offset = _dt(start).replace(tzinfo=UTC).astimezone(tz).utcoffset().total_seconds()
    if step >= day:
        offset = 0  # day ticks are UTC days, as the history's days are
    first = math.ceil((start + offset) / step) * step - offset
    return [first + i * step for i in range(int((end - first) // step) + 1)], fmt


def _tick_label(t: float, fmt: str, tz) -> str:
    """Hours on the museum's wall clock; days as the UTC days the history is made of."""
    moment = _dt(t)
    if fmt == "%H:%M":
        moment = moment.replace(tzinfo=UTC).astimezone(tz)
    return moment.strftime(fmt)


def _fmt(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"


class Panel:
    """One panel: a value over time, with optional band, spread, rules, spans and markers."""

    def __init__(self, title: str):
        self.title = title
        self.line: list[tuple] = []  # (t, value or None)
        self.band: list[tuple] = []  # (t, lo, hi): baseline
        self.spread: list[tuple] = []  # (t, lo, hi): min..max
        self.rules: list = []  # t: watering
        self.spans: list[tuple] = []  # (t1, t2): anomaly
        self.markers: list[tuple] = []  # (t, value): flagged reading
        self.ticks: list = []  # t: small ticks at the bottom (watered days)
        self.triangles: list = []  # t: anomaly started
        self.band_max_gap_s: float | None = None  # None: the chart's gap rule

    def values(self) -> list[float]:
        out = [v for _, v in self.line if v is not None]
        for _, lo, hi in self.band + self.spread:
            out += [x for x in (lo, hi) if x is not None]
        return out


def chart(panels: list[Panel], start, end, label: str, max_gap_s: float, tz=UTC) -> str:
    """An inline SVG with the panels stacked on one time axis; ``label`` is its accessible name."""
    x0, x1 = _t(start), _t(end)
    if x1 <= x0:
        x1 = x0 + 1
    plot_w = WIDTH - LEFT - RIGHT
    height = TOP + len(panels) * (PANEL_HEIGHT + GAP) - GAP + BOTTOM

    def sx(t: float) -> float:
        return LEFT + (t - x0) / (x1 - x0) * plot_w

    xticks, xfmt = time_ticks(x0, x1, tz)
    parts = [
        # drawn in a WIDTH-wide coordinate system and scaled to the width of its figure (the
        # viewBox keeps the proportions): a fixed pixel width left a third of a wide page empty
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" role="img" '
        f'aria-label="{escape(label)}" '
        f'font-family="system-ui, sans-serif" font-size="11">',
        f"<title>{escape(label)}</title>",
    ]
    for index, panel in enumerate(panels):
        top = TOP + index * (PANEL_HEIGHT + GAP)
        bottom = top + PANEL_HEIGHT
        values = panel.values() or [0.0, 1.0]
        lo, hi = min(values), max(values)
        pad = (hi - lo) * 0.06 or 1.0
        lo, hi = lo - pad, hi + pad

        def sy(v: float, lo=lo, hi=hi, bottom=bottom) -> float:
            return bottom - (min(max(v, lo), hi) - lo) / (hi - lo) * PANEL_HEIGHT

        parts.append(f'<g class="panel" aria-label="{escape(panel.title)}">')
        for tick in nice_ticks(lo, hi):
            y = sy(tick)
            parts.append(
                f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="{GRID}"/><text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
                f'fill="{MUTED}">{_fmt(tick)}</text>'
            )
        for t in xticks:
            x = sx(t)
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" stroke="{GRID}"/>'
            )
        for t1, t2 in panel.spans:
            a, b = sx(max(_t(t1), x0)), sx(min(_t(t2), x1))
            if b > a:
                parts.append(
                    f'<rect x="{a:.1f}" y="{top}" width="{max(b - a, 1.5):.1f}" '
                    f'height="{PANEL_HEIGHT}" fill="{ALERT}" fill-opacity="0.13" '
                    f'stroke="{ALERT}" stroke-opacity="0.5" stroke-dasharray="2 2"/>'
                )
        band_gap = panel.band_max_gap_s or max_gap_s
        for rows, colour, opacity, gap in (
            (panel.band, BAND, 0.4, band_gap),
            (panel.spread, SPREAD, 0.6, max_gap_s),
        ):
            for segment in _segments([(r[0], r[1], r[2]) for r in rows], gap):
                if len(segment) == 1:
                    t, a, b = segment[0]
                    segment = [(t, a, b), (_t(t) + min(gap, 86400) / 2, a, b)]
                upper = " ".join(f"{sx(_t(t)):.1f},{sy(h):.1f}" for t, _, h in segment)
                lower = " ".join(
                    f"{sx(_t(t)):.1f},{sy(low):.1f}" for t, low, _ in reversed(segment)
                )
                parts.append(
                    f'<polygon points="{upper} {lower}" fill="{colour}" fill-opacity="{opacity}"/>'
                )
        for t in panel.rules:
            x = sx(_t(t))
            if LEFT <= x <= WIDTH - RIGHT:
                parts.append(
                    f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" stroke="{WATER}" '
                    f'stroke-width="1.5" stroke-dasharray="6 3"/>'
                )
        for segment in _segments([(t, v) for t, v in panel.line], max_gap_s):
            points = " ".join(f"{sx(_t(t)):.1f},{sy(v):.1f}" for t, v in segment)
            if len(segment) == 1:
                x, y = points.split(",")
                parts.append(f'<circle cx="{x}" cy="{y}" r="1.8" fill="{LINE}"/>')
            else:
                parts.append(
                    f'<polyline points="{points}" fill="none" stroke="{LINE}" '
                    f'stroke-width="1.6" stroke-linejoin="round"/>'
                )
        for t, v in panel.markers:
            x, y = sx(_t(t)), sy(v)
            parts.append(
                f'<path d="M{x - 4:.1f},{y - 4:.1f}L{x + 4:.1f},{y + 4:.1f}M{x - 4:.1f},'
                f'{y + 4:.1f}L{x + 4:.1f},{y - 4:.1f}" stroke="{ALERT}" stroke-width="2"/>'
            )
        for t in panel.ticks:
            x = sx(_t(t))
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bottom - 7}" y2="{bottom}" '
                f'stroke="{WATER}" stroke-width="1.5"/>'
            )
        for t in panel.triangles:
            x = sx(_t(t))
            parts.append(
                f'<path d="M{x - 5:.1f},{top}L{x + 5:.1f},{top}L{x:.1f},{top + 8}Z" '
                f'fill="{ALERT}"/>'
            )
        parts.append(
            f'<rect x="{LEFT}" y="{top}" width="{plot_w}" height="{PANEL_HEIGHT}" fill="none" '
            f'stroke="{MUTED}"/>'
        )
        parts.append(
            f'<text transform="translate(14,{(top + bottom) / 2:.0f}) rotate(-90)" '
            f'text-anchor="middle" fill="{INK}">{escape(panel.title)}</text>'
        )
        parts.append("</g>")
    axis_y = TOP + len(panels) * (PANEL_HEIGHT + GAP) - GAP
    for t in xticks:
        if not LEFT + 12 <= sx(t) <= WIDTH - RIGHT - 12:
            continue  # a label cut by the edge helps no one
        parts.append(
            f'<text x="{sx(t):.1f}" y="{axis_y + 16}" text-anchor="middle" fill="{MUTED}">'
            f"{_tick_label(t, xfmt, tz)}</text>"
        )
    parts.append("</svg>")
    return "".join(part for part in parts if part)


def _segments(rows: list[tuple], max_gap_s: float) -> list[list[tuple]]:
    """Split rows at missing values and at gaps longer than ``max_gap_s`` (no invented lines)."""
    out: list[list[tuple]] = []
    current: list[tuple] = []
    last = None
    for row in rows:
        if any(v is None for v in row[1:]):
            if current:
                out.append(current)
            current, last = [], None
            continue
        t = _t(row[0])
        if last is not None and t - last > max_gap_s and current:
            out.append(current)
            current = []
        current.append(row)
        last = t
    if current:
        out.append(current)
    return out
