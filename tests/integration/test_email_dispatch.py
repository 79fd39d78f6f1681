"""The daily email over real SMTP (aiosmtpd on loopback): on time, exactly once, on both backends."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select, update

import testkit.smtp_server as smtp_fixtures
from sync.athletes import add_athlete
from sync.config import Settings, get_settings
from sync.db.models import DUE_AT_ONCE, Athlete, EmailDelivery, GarminAccount, SyncRun, WellnessDay
from sync.db.session import session_scope
from sync.morning_email import dispatch_due_emails, send_due_email
from sync.notify.dispatch import DispatchSummary, Outcome
from sync.notify.senders import sender_from_settings
from sync.scheduling import local_moment
from sync.verdicts.compute import record_soreness
from testkit.smtp_server import SmtpServer

smtp_server = smtp_fixtures.smtp_server  # the fixture, for this module

ZONES = {"berlin": "Europe/Berlin", "newyork": "America/New_York", "sydney": "Australia/Sydney"}


def _settings() -> Settings:
    get_settings.cache_clear()  # the SMTP and database variables are set by now
    return get_settings()


def _athletes(settings: Settings, zones: dict[str, str] = ZONES) -> dict[str, int]:
    with session_scope(settings) as s:
        return {
            name: add_athlete(s, name, email=f"{name}@example.org", timezone=tz, max_hr=190, rest_hr=50).id
            for name, tz in zones.items()
        }


def _rows(settings: Settings) -> list[EmailDelivery]:
    with session_scope(settings) as s:
        return list(s.scalars(select(EmailDelivery).order_by(EmailDelivery.athlete_id)))


def test_three_time_zones_each_get_one_email_at_their_local_send_time(
    db_settings: Settings, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEGDAY_REPORT_SECRET", "a-test-secret-for-signed-links-0123456789")
    settings = _settings()
    ids = _athletes(settings)
    with session_scope(settings) as s:  # Berlin's leg-heavy morning: sore legs, short sleep
        berlin = s.get(Athlete, ids["berlin"])
        record_soreness(s, berlin, date(2026, 3, 29), 5)
        s.add(WellnessDay(athlete_id=ids["berlin"], date=date(2026, 3, 29), sleep_seconds=5 * 3600))

    start = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)
    arrivals: dict[tuple[str, str], datetime] = {}
    totals = DispatchSummary()
    for step in range(0, 24 * 6 + 1):  # a tick every 10 minutes for a day
        now = start + timedelta(minutes=10 * step)
        before = len(smtp_server.recorder.messages)
        summary = dispatch_due_emails(now, settings=settings)
        assert summary.failed == 0
        totals.sent += summary.sent
        for msg in smtp_server.recorder.messages[before:]:
            key = (msg["To"].split("@")[0], msg["Message-ID"].split(".")[2])
            assert key not in arrivals, f"second email for {key}"
            arrivals[key] = now

    # Berlin moves to summer time on 2026-03-29: 06:30 local is 04:30 UTC that day, 05:30 the day before.
    assert local_moment(date(2026, 3, 29), time(6, 30), "Europe/Berlin") == datetime(
        2026, 3, 29, 4, 30, tzinfo=UTC
    )
    assert arrivals == {
        ("berlin", "2026-03-28"): start,  # already past its send time when the clock starts
        ("newyork", "2026-03-28"): start,
        ("sydney", "2026-03-29"): start,
        ("berlin", "2026-03-29"): datetime(2026, 3, 29, 4, 30, tzinfo=UTC),
        ("newyork", "2026-03-29"): datetime(2026, 3, 29, 10, 30, tzinfo=UTC),
        ("sydney", "2026-03-30"): datetime(2026, 3, 29, 19, 30, tzinfo=UTC),
    }
    assert totals.sent == 6 == len(smtp_server.recorder.messages)
    assert all(r.status == "sent" and r.attempts == 1 for r in _rows(settings))

    berlin_29 = next(
        m for m in smtp_server.recorder.to("berlin@example.org") if "2026-03-29" in m["Message-ID"]
    )
    assert berlin_29["Subject"] == "EASY today: 30 min easy, HR under 148 (soreness 5/10)"
    assert berlin_29["Date"] == "Sun, 29 Mar 2026 04:30:00 +0000"
    mailto, web = (u.strip() for u in berlin_29["List-Unsubscribe"].split(","))
    assert mailto == "<mailto:legday@example.org?subject=unsubscribe>"
    assert web.startswith("<http://127.0.0.1:8000/u/") and web.endswith(">")
    assert berlin_29["List-Unsubscribe-Post"] is None  # RFC 8058 one-click needs https
    text = berlin_29.get_body(("plain",)).get_content()
    html = berlin_29.get_body(("html",)).get_content()
    for part in (text, html):
        assert "EASY" in part
        assert "Your soreness rating: 5/10" in part and "Sleep last night: 5 h" in part
        assert "under 148 bpm" in part
        assert "SORE" not in part.replace("EASY", "")  # no raw codes
    assert "You rated soreness 5/10." in text and "You rated soreness 5/10." in html
    assert "Sleep last night: 5 h" in text  # the SLEEP_SHORT reason's number, in the numbers list


def test_two_dispatchers_at_once_send_each_email_once(db_settings: Settings, smtp_server: SmtpServer) -> None:
    settings = _settings()
    zones = {f"runner{i}": "Europe/Berlin" for i in range(6)}
    _athletes(settings, zones)
    now = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)  # 07:00 in Berlin
    results: list[DispatchSummary] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        results.append(dispatch_due_emails(now, settings=settings))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 2
    # Each athlete is claimed by one dispatcher only: nobody is even looked at twice.
    assert sum(r.sent for r in results) == 6 and sum(r.already_sent for r in results) == 0
    assert sum(r.failed for r in results) == 0
    assert sorted(m["To"] for m in smtp_server.recorder.messages) == sorted(f"{n}@example.org" for n in zones)


def test_a_doubled_tick_sends_nothing_twice(db_settings: Settings, smtp_server: SmtpServer) -> None:
    settings = _settings()
    _athletes(settings)
    now = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)  # past 06:30 in all three zones
    assert dispatch_due_emails(now, settings=settings).line() == "sent 3, already sent 0, not due 0, failed 0"
    # Their next moment is tomorrow's: the second tick looks at nobody.
    assert dispatch_due_emails(now, settings=settings).line() == "sent 0, already sent 0, not due 0, failed 0"
    # Made due again (a writer changed their address): the delivery rows still decide.
    with session_scope(settings) as s:
        s.execute(update(Athlete).values(next_send_at=DUE_AT_ONCE))
    assert dispatch_due_emails(now, settings=settings).line() == "sent 0, already sent 3, not due 0, failed 0"
    assert len(smtp_server.recorder.messages) == 3


def test_transient_failure_is_retried_after_a_backoff(db_settings: Settings, smtp_server: SmtpServer) -> None:
    settings = _settings()
    _athletes(settings, {"ana": "Europe/Berlin"})
    smtp_server.recorder.fail_data.append("451 4.3.0 Try again later")
    now = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
    assert dispatch_due_emails(now, settings=settings).line() == "sent 0, already sent 0, not due 0, failed 1"
    (row,) = _rows(settings)
    assert (row.status, row.attempts) == ("retry", 1) and "451" in (row.error or "")
    assert row.next_attempt_at == now + timedelta(seconds=settings.email_retry_backoff_s)
    soon = now + timedelta(minutes=1)  # the athlete's next moment is the retry's: nothing before it
    assert (
        dispatch_due_emails(soon, settings=settings).line() == "sent 0, already sent 0, not due 0, failed 0"
    )
    later = now + timedelta(seconds=settings.email_retry_backoff_s)
    assert (
        dispatch_due_emails(later, settings=settings).line() == "sent 1, already sent 0, not due 0, failed 0"
    )
    (row,) = _rows(settings)
    assert (row.status, row.attempts, row.error) == ("sent", 2, None)
    assert smtp_server.recorder.attempts == 2 and len(smtp_server.recorder.messages) == 1
    assert row.message_id == smtp_server.recorder.messages[0]["Message-ID"]


def test_permanent_failure_is_recorded_and_not_retried(
    db_settings: Settings, smtp_server: SmtpServer
) -> None:
    settings = _settings()
    _athletes(settings, {"ana": "Europe/Berlin"})
    smtp_server.recorder.refuse_rcpt["ana@example.org"] = "550 5.1.1 No such user"
    now = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
    assert dispatch_due_emails(now, settings=settings).failed == 1
    (row,) = _rows(settings)
    assert (row.status, row.attempts) == ("failed", 1) and "550" in (row.error or "")
    for hours in (1, 5):  # settled: the athlete's next moment is tomorrow's
        summary = dispatch_due_emails(now + timedelta(hours=hours), settings=settings)
        assert summary.line() == "sent 0, already sent 0, not due 0, failed 0"
    assert smtp_server.recorder.messages == [] and _rows(settings)[0].attempts == 1


def test_a_dead_worker_is_taken_over_only_before_smtp(db_settings: Settings, smtp_server: SmtpServer) -> None:
    settings = _settings()
    ids = _athletes(settings, {"claimed": "UTC", "sending": "UTC"})
    now = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    died = now - timedelta(hours=1)
    with session_scope(settings) as s:  # two workers died: one before SMTP, one during
        for name, status in (("claimed", "claimed"), ("sending", "sending")):
            s.add(
                EmailDelivery(
                    athlete_id=ids[name], date=now.date(), status=status, attempts=0, updated_at=died
                )
            )
    assert dispatch_due_emails(now, settings=settings).line() == "sent 1, already sent 1, not due 0, failed 0"
    assert [m["To"] for m in smtp_server.recorder.messages] == ["claimed@example.org"]
    assert {r.athlete_id: r.status for r in _rows(settings)} == {
        ids["claimed"]: "sent",
        ids["sending"]: "sending",
    }


def test_no_address_or_unsubscribed_is_skipped_and_counted(
    db_settings: Settings, smtp_server: SmtpServer
) -> None:
    settings = _settings()
    ids = _athletes(settings, {"ana": "UTC", "bo": "UTC", "cy": "UTC"})
    with session_scope(settings) as s:
        s.get(Athlete, ids["bo"]).email = None  # type: ignore[union-attr]
        s.get(Athlete, ids["cy"]).email_enabled = False  # type: ignore[union-attr]
    now = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    assert dispatch_due_emails(now, settings=settings).line() == "sent 1, already sent 0, not due 2, failed 0"
    assert len(_rows(settings)) == 1


def test_reauth_is_told_once_per_problem_instead_of_stale_verdicts(
    db_settings: Settings, smtp_server: SmtpServer
) -> None:
    settings = _settings()
    ids = _athletes(settings, {"ana": "UTC"})
    with session_scope(settings) as s:
        s.add(
            GarminAccount(
                athlete_id=ids["ana"],
                token_kind="garth",
                tokens_encrypted=b"-",
                status="needs_reauth",
                backoff_s=0,
            )
        )
    day1 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    for days in range(3):  # three mornings with broken tokens: one email
        dispatch_due_emails(day1 + timedelta(days=days), settings=settings)
    (told,) = smtp_server.recorder.messages
    assert "reconnect Garmin" in told["Subject"]
    text = told.get_body(("plain",)).get_content()
    # The way back in: an invite link (the embedded default signs one) or, without a link
    # secret (the PostgreSQL case here), the command.
    assert "Personal API key" in text
    assert ("/join/" in text) if db_settings.database_url is None else ("legday garmin connect" in text)
    assert told.get_body(("html",)) is not None

    # Fixed and synced: daily emails again, and the stale-sync line once the data ages.
    with session_scope(settings) as s:
        account = s.scalar(select(GarminAccount))
        account.status = "ok"  # type: ignore[union-attr]
        synced = day1 + timedelta(days=3, hours=-6)
        s.add(SyncRun(athlete_id=ids["ana"], kind="sync", started_at=synced, finished_at=synced, status="ok"))
    dispatch_due_emails(day1 + timedelta(days=3), settings=settings)
    dispatch_due_emails(day1 + timedelta(days=5), settings=settings)
    fresh, stale = smtp_server.recorder.messages[1:]
    assert fresh["Subject"].startswith("RUN today")
    assert "last successful Garmin sync" not in fresh.get_body(("plain",)).get_content()
    assert "Your last successful Garmin sync was 2 days ago" in stale.get_body(("plain",)).get_content()

    # Broken again later: a new problem, so a new single email.
    with session_scope(settings) as s:
        s.scalar(select(GarminAccount)).status = "needs_reauth"  # type: ignore[union-attr]
    for days in (6, 7):
        dispatch_due_emails(day1 + timedelta(days=days), settings=settings)
    assert [m["Subject"].startswith("legday needs you") for m in smtp_server.recorder.messages] == [
        True,
        False,
        False,
        True,
    ]


def test_late_overnight_data_is_named(db_settings: Settings, smtp_server: SmtpServer) -> None:
    settings = _settings()
    ids = _athletes(settings, {"ana": "UTC"})
    day = date(2026, 3, 10)
    with session_scope(settings) as s:
        for back in range(1, 4):  # sleep and HRV usually arrive
            s.add(
                WellnessDay(
                    athlete_id=ids["ana"],
                    date=day - timedelta(days=back),
                    sleep_seconds=27000,
                    hrv_last_night_ms=60,
                )
            )
        s.add(WellnessDay(athlete_id=ids["ana"], date=day, sleep_seconds=26000))  # HRV not in yet
    dispatch_due_emails(datetime(2026, 3, 10, 7, 0, tzinfo=UTC), settings=settings)
    (msg,) = smtp_server.recorder.messages
    assert "Last night's HRV has not arrived yet" in msg.get_body(("plain",)).get_content()
    assert "Last night&#39;s HRV has not arrived yet" in msg.get_body(("html",)).get_content()


def test_hand_off_queues_only_who_may_be_due_and_sends_nothing_itself(
    db_settings: Settings, smtp_server: SmtpServer
) -> None:
    """The worker's fan-out: the same function hands each possibly-due athlete to a task."""
    settings = _settings()
    ids = _athletes(settings)  # Berlin, New York, Sydney
    with session_scope(settings) as s:
        add_athlete(s, "noaddress", email=None, timezone="Europe/Berlin")
    now = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)  # 07:00 Berlin, 02:00 New York, 17:00 Sydney
    handed: list[tuple[int, datetime]] = []
    summary = dispatch_due_emails(now, settings=settings, hand_off=lambda a, at: handed.append((a, at)))
    assert sorted(a for a, _ in handed) == sorted([ids["berlin"], ids["sydney"]])
    assert all(at == now for _, at in handed)
    assert (summary.queued, summary.not_due, summary.sent) == (2, 2, 0)  # New York, no address
    assert smtp_server.recorder.messages == [] and _rows(settings) == []
    # Handed off athletes are held: a tick before their tasks run hands them off no second time.
    held: list[int] = []
    dispatch_due_emails(now, settings=settings, hand_off=lambda a, at: held.append(a))
    assert held == []
    # The tasks run `send_due_email`; afterwards the same tick hands off nobody again.
    sender = sender_from_settings(settings)
    assert [send_due_email(a, at, settings, sender) for a, at in handed] == [Outcome.SENT, Outcome.SENT]
    again: list[int] = []
    later = dispatch_due_emails(now, settings=settings, hand_off=lambda a, at: again.append(a))
    assert again == [] and (later.already_sent, later.queued) == (0, 0)
