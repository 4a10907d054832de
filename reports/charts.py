"""The site's charts.

Per-plant charts (two per plant: the last 24 hours and the whole history) are drawn as inline
SVG by ``reports.svg``: Altair specs rendered by vl-convert took 100-300 ms a chart here,
minutes for 1,000 plants. The one site-wide chart (data quality per day, stacked by reason)
is an Altair spec rendered to a static SVG file by vl-convert. No JavaScript reaches the site.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

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
    local_end = (end if end.tzinfo else end.replace(tzinfo=UTC)).astimezone(tz)
    label = (
        f"Soil moisture and temperature of {name} over the 24 hours to "
        f"{local_end:%a %d %b %Y %H:%M %Z}"
    )
    return svg.chart(panels, start, end, label, max_gap_s=15 * 60, tz=tz)


def history_chart(name, days, incidents) -> str:
    """Every day of one plant: daily average, min-max, baseline band, anomalies, waterings."""
    start = datetime.combine(days[0]["day"], datetime.min.time())
    end = datetime.combine(days[-1]["day"], datetime.min.time()) + timedelta(days=1)
    panels = []
    for field, title in (MOISTURE, TEMPERATURE):
        panel = svg.Panel(title)
        panel.line = [(d["day"], d[f"avg_{field}"]) for d in days]
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


QUALITY_REASONS = {
    "failed_not_found": "failed: not found",
    "failed_on_loan": "failed: on loan",
    "failed_sensor_fault": "failed: sensor fault",
    "failed_server_error": "failed: server error",
    "failed_timeout": "failed: timeout",
    "failed_connection_error": "failed: connection error",
    "failed_invalid_body": "failed: invalid body",
    "flagged_moisture_out_of_range": "flagged: moisture out of range",
    "flagged_temperature_implausible": "flagged: implausible temperature",
    "flagged_duplicate": "flagged: duplicate",
    "flagged_future": "flagged: in the future",
    "flagged_stale": "flagged: stale sensor",
    "flagged_missing_fields": "flagged: missing fields",
}


def warm_up() -> None:
    """Import Altair and start vl-convert's engine (~1-2 s): run in a thread while SQL runs."""
    import altair  # noqa: F401
    import vl_convert

    vl_convert.vegalite_to_svg({"mark": "point", "data": {"values": [{"a": 1}]}})


def quality_chart(days, path: Path) -> None:
    """Failed requests and flagged readings per day, stacked by reason (Altair + vl-convert)."""
    import altair as alt
    import vl_convert

    # a bar per day reads well for a few months; a year is drawn a bar per week (the tables
    # below the chart keep every day), which also keeps rendering fast
    weekly = len(days) > 120
    totals: dict[tuple[str, str], int] = {}
    for d in days:
        when = d["day"] - timedelta(days=d["day"].weekday()) if weekly else d["day"]
        for column, label in QUALITY_REASONS.items():
            if d[column]:
                key = (when.isoformat(), label)
                totals[key] = totals.get(key, 0) + d[column]
    width = timedelta(days=7 if weekly else 1)
    counts = [
        {"t": t, "t2": (date.fromisoformat(t) + width).isoformat(), "reason": reason, "n": n}
        for (t, reason), n in totals.items()
    ]
    chart = (
        alt.Chart(alt.Data(values=counts))
        .mark_bar()
        .encode(
            x=alt.X("t:T", title="week starting" if weekly else None, scale=alt.Scale(type="utc")),
            x2="t2:T",
            y=alt.Y("sum(n):Q", title="per week" if weekly else "per day", stack=True),
            color=alt.Color(
                "reason:N",
                title="Reason",
                scale=alt.Scale(scheme="tableau20"),
                legend=alt.Legend(orient="bottom", columns=3, labelLimit=260),
            ),
        )
        .properties(width=760, height=200)
        .configure_axis(labelColor="#1b1b1b", titleColor="#1b1b1b")
    )
    path.write_text(vl_convert.vegalite_to_svg(chart.to_dict(validate=False)), encoding="utf-8")
