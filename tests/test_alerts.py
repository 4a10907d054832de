"""Botanist alerts end to end: marts rows in, e-mail received by a real SMTP server out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from lnhm.locking import writer_lock
from tests import test_alerts_support as support
from tests.test_alerts_support import read_outbox, run_job, utcnow

# fixtures shared with the other alert tests
hot, duck, smtp = support.hot, support.duck, support.smtp
LONDON = ZoneInfo("Europe/London")  # LNHM_TIMEZONE's default


def shown(value: datetime) -> str:
    """How a mail writes a naive-UTC time of today's tests (the default zone, its abbreviation,
    UTC in parentheses); test_mails_show_the_museums_wall_clock_* has the forms by hand."""
    local = value.replace(tzinfo=UTC).astimezone(LONDON)
    utc = f"{value:%H:%M}" if local.date() == value.date() else f"{value:%a %H:%M}"
    return f"{local:%a %d %b %Y %H:%M %Z} ({utc} UTC)"


def test_open_incident_is_announced_once_to_its_botanist(hot, smtp):
    hot.create_marts()
    hot.add_plant(1, "Venus flytrap", address="carl@lnhm.example", moisture=8.25, temperature=14.0)
    hot.add_plant(
        2,
        "Corpse flower",
        botanist_id=2,
        botanist="Gertrude Jekyll",
        address="gertrude@lnhm.example",
    )
    started = utcnow().replace(second=0) - timedelta(minutes=42)
    hot.add_incident("a-1", 1, "moisture_low", started, worst_value=6.5)
    env = {**hot.env, **smtp.env}

    first = run_job(env)
    assert first.returncode == 0, first.stderr
    assert first.log["job"] == "alerts" and first.log["outcome"] == "ok"
    received = smtp.inbox.take()
    assert len(received) == 1
    mail = received[0]
    assert mail.rcpt_tos == ["carl@lnhm.example"]
    assert "Venus flytrap" in mail.subject
    assert "Soil moisture too low" in mail.subject
    text = mail.text()
    assert shown(started) in text  # since when
    assert "6.5 %" in text  # worst value
    assert "8.2 %" in text or "8.3 %" in text  # latest moisture
    assert "14.0 °C" in text  # latest temperature
    assert "Venus flytrap" in mail.html() and "<table>" in mail.html()

    # a rerun, and a rerun after another transform, announce nothing new
    for _ in range(2):
        again = run_job(env)
        assert again.returncode == 0, again.stderr
        assert again.log["counts"]["sent"] == 0
    assert smtp.inbox.take() == []
    assert [(r["alert_key"], r["message_kind"]) for r in hot.sent()] == [
        ("incident:a-1", "problem")
    ]


def test_recovery_is_sent_once_when_the_incident_ends(hot, smtp):
    hot.create_marts()
    hot.add_plant(1, "Venus flytrap")
    started = utcnow() - timedelta(hours=2)
    hot.add_incident("a-1", 1, "temperature_high", started, worst_value=39.0)
    env = {**hot.env, **smtp.env}
    assert run_job(env).returncode == 0
    assert len(smtp.inbox.take()) == 1

    ended = utcnow().replace(second=0) - timedelta(minutes=5)
    hot.end_incident("a-1", ended)
    result = run_job(env)
    assert result.returncode == 0, result.stderr
    assert result.log["counts"]["recoveries_sent"] == 1
    [mail] = smtp.inbox.take()
    assert mail.subject.startswith("[LNHM] Resolved:")
    assert "Temperature too high" in mail.subject
    assert shown(ended) in mail.text()
    assert mail.message["X-LNHM-Message-Kind"] == "recovery"

    assert run_job(env).returncode == 0
    assert smtp.inbox.take() == []
    assert [r["message_kind"] for r in hot.sent()] == ["problem", "recovery"]


def test_an_incident_whose_readings_stopped_is_not_called_resolved(duck, smtp):
    """Issue 11: a gap ends an incident at its last breach (fct_incidents.is_ended_by_gap);
    its closing mail says the readings stopped, not that the plant recovered."""
    duck.create_marts()
    duck.add_plant(1, "Venus flytrap", address="carl@lnhm.example")
    started = utcnow().replace(second=0) - timedelta(hours=2)
    duck.add_incident("a-1", 1, "moisture_low", started, worst_value=4.5)
    env = {**duck.env, **smtp.env}
    assert run_job(env).returncode == 0
    assert len(smtp.inbox.take()) == 1

    last_breach = utcnow().replace(second=0) - timedelta(minutes=40)
    duck.end_incident("a-1", last_breach, by_gap=True)
    result = run_job(env)
    assert result.returncode == 0, result.stderr
    [mail] = smtp.inbox.take()
    assert mail.subject == "[LNHM] Readings stopped: Soil moisture too low: Venus flytrap (plant 1)"
    text = mail.text()
    assert "recovered" not in text.lower() and "good news" not in text.lower()
    assert "stopped sending readings while this" in text
    assert f"Last seen:    {shown(last_breach)}" in text
    assert "Readings stopped:" in mail.html() and "Recovered" not in mail.html()
    assert mail.message["X-LNHM-Message-Kind"] == "recovery"  # it closes the announced pair
    assert run_job(env).returncode == 0
    assert smtp.inbox.take() == []


def test_a_message_carries_the_plants_forecast_from_plant_status(duck, smtp):
    duck.create_marts()
    dry_at = utcnow().replace(second=0, microsecond=0) + timedelta(hours=2, minutes=5)
    duck.add_plant(1, "Venus flytrap", moisture=9.0, dry_expected_at=dry_at)
    duck.add_plant(2, "Corpse flower", moisture=60.0)  # not drying: no forecast line
    started = utcnow().replace(second=0) - timedelta(minutes=42)
    duck.add_incident("a-1", 1, "temperature_high", started, worst_value=31.0)
    duck.add_incident("a-2", 2, "temperature_high", started, worst_value=31.0)
    result = run_job({**duck.env, **smtp.env})
    assert result.returncode == 0, result.stderr
    mails = {mail.subject.split(":")[-1].strip(): mail for mail in smtp.inbox.take()}
    assert len(mails) == 2
    forecast = f"Needs water by: {shown(dry_at)}"
    drying = next(mail for subject, mail in mails.items() if "Venus flytrap" in subject)
    assert forecast in drying.text()
    assert "Needs water by" in drying.html()
    steady = next(mail for subject, mail in mails.items() if "Corpse flower" in subject)
    assert "Needs water by" not in steady.text()


@pytest.mark.parametrize(
    ("dry_at", "expected"),
    [
        # 1 July 2026 is a Wednesday; the UK keeps BST (UTC+1) from 29 March to 25 October 2026
        (datetime(2026, 7, 1, 13, 0), "Wed 01 Jul 2026 14:00 BST (13:00 UTC)"),
        # 14 January 2026 is a Wednesday, on GMT (UTC+0)
        (datetime(2026, 1, 14, 13, 0), "Wed 14 Jan 2026 13:00 GMT (13:00 UTC)"),
        # late on Tuesday 30 June in UTC is already Wednesday on the museum's clock
        (datetime(2026, 6, 30, 23, 30), "Wed 01 Jul 2026 00:30 BST (Tue 23:30 UTC)"),
    ],
    ids=["summer-bst", "winter-gmt", "bst-next-day"],
)
def test_mails_show_the_museums_wall_clock_with_utc_beside_it(duck, smtp, dry_at, expected):
    """Issue 11: the site prints the museum's zone (LNHM_TIMEZONE); so do the e-mails now."""
    duck.create_marts()
    duck.add_plant(1, "Venus flytrap", moisture=9.0, dry_expected_at=dry_at)
    duck.add_incident("a-1", 1, "temperature_high", utcnow() - timedelta(minutes=42), 31.0)
    result = run_job({**duck.env, **smtp.env})
    assert result.returncode == 0, result.stderr
    (mail,) = smtp.inbox.take()
    assert f"Needs water by: {expected}" in mail.text()
    assert f"{expected} (forecast" in mail.html()
    # every time in the message is on the museum's clock: none is written as UTC alone
    assert " UTC\n" not in mail.text() and "UTC)" in mail.text()


def test_mails_use_the_configured_time_zone(duck, smtp):
    duck.create_marts()
    duck.add_plant(1, "Venus flytrap", moisture=9.0, dry_expected_at=datetime(2026, 1, 14, 13, 0))
    duck.add_incident("a-1", 1, "temperature_high", utcnow() - timedelta(minutes=42), 31.0)
    result = run_job({**duck.env, **smtp.env, "LNHM_TIMEZONE": "America/New_York"})
    assert result.returncode == 0, result.stderr
    (mail,) = smtp.inbox.take()
    assert "Needs water by: Wed 14 Jan 2026 08:00 EST (13:00 UTC)" in mail.text()


def test_an_early_warning_is_mailed_once_per_drying_cycle_without_a_recovery(hot, smtp):
    hot.create_marts()
    hot.add_plant(16, "Thirsty fern", moisture=20.0)
    day = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    watered, watering = day - timedelta(hours=10), day + timedelta(hours=14)
    hot.add_warning("w-1", 16, watered, watering, day + timedelta(hours=8, minutes=19))
    env = {**hot.env, **smtp.env}
    first = run_job(env)
    assert first.returncode == 0, first.stderr
    assert first.log["counts"]["warnings_sent"] == 1
    (mail,) = smtp.inbox.take()
    assert mail.rcpt_tos == ["carl@lnhm.example"]
    assert "Will be dry before its watering" in mail.subject and "Thirsty fern" in mail.subject
    text = mail.text()
    dry_at = day + timedelta(hours=8, minutes=19)
    assert f"Expected dry:   {shown(dry_at)} (below 5.0 %)" in text
    assert f"Usual watering: {shown(day + timedelta(hours=14))}" in text
    assert "Dry for about:  5.7 h before it" in text

    # the next builds show the same cycle: nothing more; it ends (the plant went dry): no
    # recovery; the next cycle (a new watering) is warned again
    assert run_job(env).log["counts"]["sent"] == 0
    hot.clear_warnings()
    assert run_job(env).log["counts"]["sent"] == 0
    hot.add_warning(
        "w-2", 16, watering, watering + timedelta(hours=24), day + timedelta(days=1, hours=8)
    )
    assert run_job(env).log["counts"]["warnings_sent"] == 1
    assert [(r["alert_key"], r["message_kind"]) for r in hot.sent()] == [
        ("warning:w-1", "warning"),
        ("warning:w-2", "warning"),
    ]
    assert len(smtp.inbox.take()) == 1


def test_incident_already_over_when_first_seen_sends_nothing(duck, smtp):
    duck.create_marts()
    duck.add_plant(1, "Venus flytrap")
    duck.add_incident(
        "a-1",
        1,
        "moisture_high",
        utcnow() - timedelta(hours=3),
        101.0,
        ended_at=utcnow() - timedelta(hours=2),
    )
    assert run_job({**duck.env, **smtp.env}).returncode == 0
    assert smtp.inbox.take() == []


def test_not_watered_when_expected_alerts_and_recovers(hot, smtp):
    hot.create_marts()
    hot.add_plant(3, "Bird of paradise", hours_since_watered=30.5)
    hot.add_plant(4, "Cactus", hours_since_watered=25.0)
    since = utcnow() - timedelta(hours=4.5)
    hot.add_incident("nw-3", 3, "not_watered", since, 30.5, readings=0, threshold=26)
    env = {**hot.env, **smtp.env}
    assert run_job(env).returncode == 0
    [mail] = smtp.inbox.take()
    assert "Not watered when expected" in mail.subject
    assert "Bird of paradise" in mail.subject
    assert "30.5 hours ago; expected within 26 h" in mail.text()

    assert run_job(env).returncode == 0
    assert smtp.inbox.take() == []

    hot.end_incident("nw-3", utcnow())
    assert run_job(env).returncode == 0
    [mail] = smtp.inbox.take()
    assert mail.subject.startswith("[LNHM] Resolved: Not watered when expected")


def test_labels_come_from_the_incident_kinds_mart(duck, smtp):
    duck.create_marts()
    duck.add_plant(4, "Cactus")
    duck.sql(
        "update marts.dim_incident_kinds set label = 'Bone dry', advice = 'Water it now.',"
        " worst_value_label = 'Driest', worst_value_digits = 2 where code = 'moisture_low'"
    )
    duck.add_incident("a-4", 4, "moisture_low", utcnow(), 3.125)
    assert run_job({**duck.env, **smtp.env}).returncode == 0
    [mail] = smtp.inbox.take()
    assert "Bone dry" in mail.subject
    assert "Water it now." in mail.text() and "Driest: 3.12 %" in mail.text()


def test_feed_down_goes_to_the_operator(duck, smtp):
    duck.create_marts()
    duck.add_plant(1, "Fern")
    duck.add_incident("fd-1", None, "feed_down", utcnow() - timedelta(minutes=30), 30, readings=0)
    env = {**duck.env, **smtp.env}
    assert run_job(env).returncode == 0
    [mail] = smtp.inbox.take()
    assert mail.rcpt_tos == ["ops@lnhm.example"]
    assert "data feed down" in mail.subject
    duck.end_incident("fd-1", utcnow())
    assert run_job(env).returncode == 0
    [mail] = smtp.inbox.take()
    assert mail.rcpt_tos == ["ops@lnhm.example"] and "Resolved" in mail.subject


def test_values_from_the_api_are_escaped_and_cannot_add_headers(duck, smtp):
    duck.create_marts()
    duck.add_plant(5, "<script>alert(1)</script>\r\nBcc: victim@evil.example")
    duck.add_incident("a-5", 5, "sensor_faults", utcnow() - timedelta(minutes=30), 4)
    assert run_job({**duck.env, **smtp.env}).returncode == 0
    [mail] = smtp.inbox.take()
    assert mail.rcpt_tos == ["carl@lnhm.example"]
    assert mail.message["Bcc"] is None
    assert "\n" not in mail.subject
    html = mail.html()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" in mail.text()  # plain text shows it as written


def test_invalid_botanist_address_goes_to_the_operator(duck, smtp):
    duck.create_marts()
    duck.add_plant(6, "Orchid", address="not-an-address", valid=False)
    duck.add_incident("a-6", 6, "no_reading", utcnow() - timedelta(minutes=20))
    duck.add_plant(7, "Fern", botanist_id=2, address="fern@lnhm.example")
    assert run_job({**duck.env, **smtp.env}).returncode == 0
    [mail] = smtp.inbox.take()
    assert mail.rcpt_tos == ["ops@lnhm.example"]
    assert "not-an-address" in mail.text() and "not usable" in mail.text()


def test_held_incidents_are_not_announced(duck, smtp):
    # which alerts are held is dbt's rule (marts.incident_alerts.is_held); the alerts obey it
    duck.create_marts()
    for plant_id in (1, 2):
        duck.add_plant(plant_id, f"Plant {plant_id}", missing=True, status="missing")
        started = utcnow() - timedelta(minutes=30)
        duck.add_incident(f"nr-{plant_id}", plant_id, "no_reading", started, held=True)
    env = {**duck.env, **smtp.env}
    result = run_job(env)
    assert result.returncode == 0
    assert result.log["counts"]["held"] == 2
    assert smtp.inbox.take() == []

    duck.sql("update marts.incident_alerts set is_held = false where incident_id = 'nr-1'")
    duck.end_incident("nr-2", utcnow())
    assert run_job(env).returncode == 0
    [mail] = smtp.inbox.take()  # plant 1 alone is missing now: that is the plant's problem
    assert mail.message["X-LNHM-Alert-Key"] == "incident:nr-1"


def test_failed_delivery_is_not_recorded_and_is_retried(hot, smtp):
    hot.create_marts()
    hot.add_plant(1, "Venus flytrap", address="carl@lnhm.example")
    hot.add_plant(2, "Fern", botanist_id=2, address="gone@lnhm.example")
    for plant_id in (1, 2):
        hot.add_incident(f"a-{plant_id}", plant_id, "moisture_low", utcnow(), 3.0)
    smtp.inbox.refuse.add("gone@lnhm.example")
    env = {**hot.env, **smtp.env}

    failed = run_job(env)
    assert failed.returncode == 1
    assert failed.log["outcome"] == "failed"
    assert len(failed.stderr.strip().splitlines()) == 1
    assert "gone@lnhm.example" in failed.stderr
    assert [m.rcpt_tos for m in smtp.inbox.take()] == [["carl@lnhm.example"]]
    assert [r["alert_key"] for r in hot.sent()] == ["incident:a-1"]

    smtp.inbox.refuse.clear()
    retried = run_job(env)
    assert retried.returncode == 0, retried.stderr
    assert [m.rcpt_tos for m in smtp.inbox.take()] == [["gone@lnhm.example"]]


def test_unreachable_smtp_server_fails_clearly_and_records_nothing(duck):
    from harness.services import free_port

    duck.create_marts()
    duck.add_plant(1, "Venus flytrap")
    duck.add_incident("a-1", 1, "moisture_low", utcnow(), 3.0)
    env = {
        **duck.env,
        "LNHM_SMTP_HOST": "127.0.0.1",
        "LNHM_SMTP_PORT": str(free_port()),
        "LNHM_SMTP_TLS": "none",
        "LNHM_SMTP_PASSWORD": "s3cret-pw",
    }
    result = run_job(env)
    assert result.returncode == 1
    assert "cannot connect" in result.stderr and "127.0.0.1" in result.stderr
    assert "s3cret-pw" not in result.stdout + result.stderr
    assert duck.sent() == []


def test_embedded_default_writes_eml_files_to_the_outbox(duck, tmp_path):
    duck.create_marts()
    duck.add_plant(1, "Venus flytrap")
    duck.add_incident("a-1", 1, "temperature_low", utcnow(), 1.5)
    assert run_job(duck.env).returncode == 0
    [message] = read_outbox(tmp_path / "outbox")
    assert message["To"] == "carl@lnhm.example"
    assert "Temperature too low" in message["Subject"]
    assert message.get_body(("html",)) is not None
    assert run_job(duck.env).returncode == 0
    assert len(read_outbox(tmp_path / "outbox")) == 1
    assert not list((tmp_path / "outbox").glob(".tmp-*"))


def test_daily_digest_once_per_botanist_per_day(hot, smtp):
    hot.create_marts()
    hot.add_plant(1, "Venus flytrap", address="carl@lnhm.example")
    hot.add_plant(2, "Fern", address="carl@lnhm.example")
    hot.add_plant(
        3, "Orchid", botanist_id=2, botanist="Gertrude Jekyll", address="gertrude@lnhm.example"
    )
    hot.add_incident("a-1", 1, "moisture_low", utcnow() - timedelta(hours=1), 5.0)
    hot.add_incident(
        "a-2",
        2,
        "temperature_high",
        utcnow() - timedelta(hours=5),
        35.0,
        ended_at=utcnow() - timedelta(hours=4),
    )
    env = {**hot.env, **smtp.env}
    result = run_job(env, "digest")
    assert result.returncode == 0, result.stderr
    assert result.log["job"] == "alerts-digest"
    received = {m.rcpt_tos[0]: m for m in smtp.inbox.take()}
    assert set(received) == {"carl@lnhm.example", "gertrude@lnhm.example"}
    carl = received["carl@lnhm.example"].text()
    assert "Venus flytrap" in carl and "Fern" in carl and "Orchid" not in carl
    assert "Open problems: 1" in carl and "Resolved in the last 24 hours: 1" in carl

    assert run_job(env, "digest").returncode == 0
    assert smtp.inbox.take() == []


def test_no_marts_yet_is_not_a_failure(duck, smtp):
    result = run_job({**duck.env, **smtp.env})
    assert result.returncode == 0, result.stderr
    assert "does not exist yet" in result.log["counts"]["note"]
    assert not duck.settings.duckdb_path.exists()  # the alerts do not create the hot store
    duck.sql("create schema raw")
    result = run_job({**duck.env, **smtp.env})
    assert result.returncode == 0, result.stderr
    assert "not built yet" in result.log["counts"]["note"]


def test_overlapping_run_is_skipped_with_a_clear_message(duck, smtp):
    duck.create_marts()
    with writer_lock(duck.settings, name="alerts.job", job="test"):
        result = run_job({**duck.env, **smtp.env, "LNHM_LOCK_TIMEOUT": "0.5"})
    assert result.returncode == 75
    assert result.log["outcome"] == "skipped"
    assert "skipped" in result.stderr


@pytest.mark.parametrize("variable", ["LNHM_ALERT_WATERING_HOURS", "LNHM_OPS_STALE_MINUTES"])
def test_invalid_configuration_names_the_variable(duck, variable):
    result = run_job({**duck.env, variable: "soon"})
    assert result.returncode == 2
    assert variable in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_delivered_message_waits_longer_for_a_busy_store_before_giving_up(duck, monkeypatch):
    import contextlib
    from email.message import EmailMessage

    from alerts import dispatch
    from lnhm.joblog import JobFailed
    from lnhm.locking import LockTimeout

    recorded: list[str] = []
    busy = {"left": 2}

    class FakeStore:
        def record_sent(self, **row):
            recorded.append(row["alert_key"])

    @contextlib.contextmanager
    def session(settings, job):
        if busy["left"]:
            busy["left"] -= 1
            raise LockTimeout("ingest is writing")
        yield FakeStore()

    monkeypatch.setattr(dispatch, "session", session)
    message = EmailMessage()
    message["Subject"] = "s"
    out = dispatch.Outgoing("k", "problem", "m", "botanist", "a@b.example", {}, message)
    dispatch.record(duck.settings, out, utcnow(), "test")  # two timeouts, then recorded
    assert recorded == ["k"]

    busy["left"] = dispatch.RECORD_ATTEMPTS
    with pytest.raises(JobFailed, match="delivered but could not be recorded"):
        dispatch.record(duck.settings, out, utcnow(), "test")


def test_dry_run_lists_messages_and_sends_nothing(duck, smtp):
    duck.create_marts()
    duck.add_plant(1, "Venus flytrap")
    duck.add_incident("a-1", 1, "moisture_low", utcnow(), 3.0)
    env = {**duck.env, **smtp.env}
    for args in ((), ("digest",), ("ops",)):
        result = run_job(env, *args, "--dry-run")
        assert result.returncode == 0, result.stderr
        assert result.log["counts"]["would_send"] >= 1
        assert "would send" in result.stderr
    assert smtp.inbox.take() == []
    assert duck.sent() == []
    assert duck.rows("select * from alerts.store_size_history") == []
    assert run_job(env).log["counts"]["sent"] == 1  # the real run still sends it
