"""The site's charts.

Per-plant charts (two per plant: the last 24 hours and the whole history) are drawn as inline
SVG by ``reports.svg``: Altair specs rendered by vl-convert took 100-300 ms a chart here,
minutes for 1,000 plants. The one site-wide chart (data quality per day, stacked by reason)
is an Altair spec rendered to a static SVG file by vl-convert. No JavaScript reaches the site.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from lnhm.timefmt import format_local
from reports import svg
from reports.words import plural

MOISTURE = ("soil_moisture_pct", "Soil moisture (%)")
TEMPERATURE = ("temperature_c", "Temperature (°C)")
# a flag about one measure is not marked on the other measure's panel
OTHER_PANEL_REASON = {
    "soil_moisture_pct": "implausible temperature",
    "temperature_c": "moisture out of range",
}


def _clamp(value, lo, hi):
    return min(max(value, lo), hi)


def day_chart(name, series, flagged, waterings, incidents, baseline, window, tz=UTC) -> str:
    """The last 24 hours of one plant as inline SVG.

    ``series``: 5-minute buckets (bucket_at, soil_moisture_pct, temperature_c). ``flagged``:
    flagged readings, drawn as crosses (clamped to the panel so a wild value cannot squash the
    chart). ``baseline``: the latest baseline row (mean +- 2 sd band) or None.
    """
    start, end = window
    panels = []
    for field, title in (MOISTURE, TEMPERATURE):
        panel = svg.Panel(title)
        panel.line = [(r["bucket_at"], r[field]) for r in series]
        if baseline and baseline.get(f"{field}_mean_7d") is not None:
            mean = baseline[f"{field}_mean_7d"]
            sd = baseline.get(f"{field}_stddev_7d") or 0.0
            panel.band = [
                (start, mean - 2 * sd, mean + 2 * sd),
                (end, mean - 2 * sd, mean + 2 * sd),
            ]
            panel.band_max_gap_s = float("inf")  # one band over the whole window
        values = panel.values() or [0.0]
        lo, hi = min(values), max(values)
        other = OTHER_PANEL_REASON[field]
        panel.markers = [
            (f["recorded_at"], _clamp(f[field], lo, hi))
            for f in flagged
            if f[field] is not None and f["reason"] != other
        ]
        panel.rules = [w["watered_at"] for w in waterings]
        panel.spans = [
            (max(i["started_at"], start), i["ended_at"] or end)
            for i in incidents
            if (i["ended_at"] or end) > start and i["started_at"] <= end
        ]
        panels.append(panel)
    label = f"Soil moisture and temperature of {name} over the 24 hours to {format_local(end, tz)}"
    return svg.chart(panels, start, end, label, max_gap_s=15 * 60, tz=tz)


def history_chart(name, days, incidents) -> str:
    """Every day of one plant: daily average, min-max, baseline band, anomalies, waterings."""
    start = datetime.combine(days[0]["day"], datetime.min.time())
    end = datetime.combine(days[-1]["day"], datetime.min.time()) + timedelta(days=1)
    panels = []
    for field, title in (MOISTURE, TEMPERATURE):
        panel = svg.Panel(title)
        # temperature: the spike-free mean, as the baseline band is (plant_daily_summary)
        line = "typical_temperature_c" if field == TEMPERATURE[0] else f"avg_{field}"
        panel.line = [(d["day"], d[line]) for d in days]
        panel.spread = [(d["day"], d[f"min_{field}"], d[f"max_{field}"]) for d in days]
        panel.band = []
        for d in days:
            mean, sd = d[f"{field}_mean_7d"], d[f"{field}_stddev_7d"]
            if mean is None or sd is None:
                panel.band.append((d["day"], None, None))
            else:
                panel.band.append((d["day"], mean - 2 * sd, mean + 2 * sd))
        panel.triangles = [i["started_at"] for i in incidents if i["started_at"] >= start]
        if field == MOISTURE[0]:
            panel.ticks = [d["day"] for d in days if d["waterings"]]
        panels.append(panel)
    label = f"Daily soil moisture and temperature of {name} over {plural(len(days), 'day')}"
    return svg.chart(panels, start, end, label, max_gap_s=1.5 * 86400)


# the readings' flags (fct_readings' columns; no seed names them): the data-quality chart's third
# panel. Failed requests are named by the seed failure_kinds (dim_failure_kinds), which also
# says which are expected answers rather than faults.
FLAG_REASONS = {
    "flagged_moisture_out_of_range": "moisture out of range",
    "flagged_temperature_implausible": "implausible temperature",
    "flagged_duplicate": "duplicate",
    "flagged_future": "in the future",
    "flagged_stale": "stale sensor",
    "flagged_missing_fields": "missing fields",
}
QUALITY_WIDTH = 980  # about the page's width: the SVG is scaled to its figure (style.css)
EXPECTED_COLOURS = ["#8a97a6", "#c3ccd6", "#5b6b7a"]
FAULT_COLOURS = ["#b3261e", "#e8833a", "#f2c14e", "#7b2d8b", "#d4658f", "#8c564b", "#e377c2"]
FLAG_COLOURS = ["#1f5f8b", "#4e9fd1", "#2a9d8f", "#8ab17d", "#264653", "#9c89b8"]


def warm_up() -> None:
    """Import Altair and start vl-convert's engine (~1-2 s): run in a thread while SQL runs."""
    import altair  # noqa: F401
    import vl_convert

    vl_convert.vegalite_to_svg({"mark": "point", "data": {"values": [{"a": 1}]}})


def quality_groups(failure_kinds: list[dict]) -> list[tuple[str, dict[str, str], list[str]]]:
    """The data-quality chart's panels: (title, column -> label, colours). The seed
    failure_kinds says which failed requests are expected answers (is_expected: on loan, not
    found) and which are faults; the chart only draws them apart."""
    expected = {f"failed_{k['code']}": k["label"] for k in failure_kinds if k["is_expected"]}
    faults = {f"failed_{k['code']}": k["label"] for k in failure_kinds if not k["is_expected"]}
    expected_title = "Expected answers (plant on loan, not found): failed requests"
    return [
        (expected_title, expected, EXPECTED_COLOURS),
        ("Faults: failed requests", faults, FAULT_COLOURS),
        ("Flagged readings", FLAG_REASONS, FLAG_COLOURS),
    ]


def quality_slots(days: list[dict], weekly: bool) -> list[date]:
    """Every day (or week, from Monday) from the first to the last: a day without data is an
    empty slot on the axis, not closed up."""
    first, last = min(d["day"] for d in days), max(d["day"] for d in days)
    step = timedelta(days=7 if weekly else 1)
    slot = first - timedelta(days=first.weekday()) if weekly else first
    slots = []
    while slot <= last:
        slots.append(slot)
        slot += step
    return slots


def quality_chart(days, failure_kinds, path: Path) -> None:
    """Failed requests (expected answers apart from faults) and flagged readings per day,
    stacked by reason, one tick and label per day (Altair + vl-convert)."""
    import altair as alt
    import vl_convert

    # a bar per day reads well for a few months; a year is drawn a bar per week (the tables
    # below the chart keep every day), which also keeps rendering fast
    weekly = len(days) > 120
    slots = [s.isoformat() for s in quality_slots(days, weekly)]
    panels = []
    for title, columns, colours in quality_groups(failure_kinds):
        totals: dict[tuple[str, str], int] = {}
        for d in days:
            when = d["day"] - timedelta(days=d["day"].weekday()) if weekly else d["day"]
            for column, label in columns.items():
                if d[column]:
                    key = (when.isoformat(), label)
                    totals[key] = totals.get(key, 0) + d[column]
        counts = [{"slot": t, "reason": reason, "n": n} for (t, reason), n in totals.items()]
        labels = list(columns.values())
        panels.append(
            alt.Chart(alt.Data(values=counts), title=title)
            .mark_bar()
            .encode(
                # one category per day (or week): a tick and a label each, the days in order
                x=alt.X(
                    "slot:O",
                    scale=alt.Scale(domain=slots),
                    title="week from" if weekly else "day (UTC)",
                    axis=alt.Axis(
                        labelExpr="utcFormat(toDate(datum.value), '%d %b')",
                        labelAngle=0 if len(slots) <= 16 else -90,
                        labelOverlap=True,
                    ),
                ),
                y=alt.Y("sum(n):Q", title="per week" if weekly else "per day", stack=True),
                color=alt.Color(
                    "reason:N",
                    title=None,
                    scale=alt.Scale(domain=labels, range=colours[: len(labels)]),
                    legend=alt.Legend(orient="right", labelLimit=260),
                ),
            )
            .properties(width=QUALITY_WIDTH - 300, height=110)
        )
    chart = (
        alt.vconcat(*panels, spacing=18)
        .resolve_scale(color="independent", y="independent")
        .configure_axis(labelColor="#1b1b1b", titleColor="#1b1b1b")
        .configure_title(anchor="start", fontSize=13)
    )
    path.write_text(vl_convert.vegalite_to_svg(chart.to_dict(validate=False)), encoding="utf-8")
