"""The push dispatcher costs the channels due, not the fleet (sync/notify/push/due.py), on both
backends: a tick with nothing due runs one indexed page query and writes nothing, however many
channels there are; each channel's stored moment follows its day (the send time, a retry, the
next day), a new verdict after the send moment makes it due at once, a reschedule never
overwrites that wake-up, and a paused channel is never due."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import event, insert, select, update

from sync.athletes import add_athlete
from sync.config import Settings, get_settings
from sync.db.models import DUE_AT_ONCE, Athlete, NotifyChannel
from sync.db.session import engine_for, session_scope
from sync.morning_push import dispatch_due_pushes
from sync.notify.push.channels import add_channel, resume_channel
from sync.notify.push.due import reschedule
from sync.scheduling import local_moment
from sync.verdicts.compute import compute_verdict, record_soreness
from sync.verdicts.policy import record_soreness_and_recompute
from testkit.push_receiver import Received, push_receiver

BERLIN = "Europe/Berlin"
DAY = date(2026, 3, 10)


@pytest.fixture
def receiver() -> Iterator[tuple[str, Received]]:
    with push_receiver() as found:
        yield found


@pytest.fixture
def settings_with_keys(db_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("LEGDAY_REPORT_SECRET", "a-test-secret-for-signed-links-0123456789")
    monkeypatch.setenv("LEGDAY_PUSH_RETRY_BACKOFF_S", "60")
    monkeypatch.setenv("LEGDAY_SECRET_KEY", Fernet.generate_key().decode())  # channel URLs at rest
    get_settings.cache_clear()
    return get_settings()


def _moment(settings: Settings, channel_id: int) -> datetime | None:
    with session_scope(settings) as s:
        return s.scalar(select(NotifyChannel.next_push_at).where(NotifyChannel.id == channel_id))


def _statements(settings: Settings, run) -> list[str]:  # noqa: ANN001 - a callable
    """The SQL statements `run()` sends that name a push table."""
    seen: list[str] = []
    engine = engine_for(settings.sqlalchemy_url)

    def record(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        if "notify_channel" in statement or "channel_delivery" in statement:
            seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


@pytest.mark.parametrize("channels", [10, 2000])
def test_a_tick_with_nothing_due_reads_one_page_and_writes_nothing(
    settings_with_keys: Settings, receiver: tuple[str, Received], channels: int
) -> None:
    settings = settings_with_keys
    base, got = receiver
    now = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
    with session_scope(settings) as s:
        athlete = add_athlete(s, "ana", email="ana@example.org", timezone=BERLIN, max_hr=190, rest_hr=50)
        s.flush()
        first = add_channel(s, athlete.id, f"{base}/ana", settings, now).id
        tomorrow = now + timedelta(hours=17)
        rows = [
            {"athlete_id": athlete.id, "url_encrypted": b"x", "status": "active", "created_at": now}
            for _ in range(channels - 1)
        ]
        s.execute(insert(NotifyChannel), rows)  # seeded directly: only their moments matter here
        compute_verdict(s, athlete, DAY)  # the morning's verdict, as a sync at wake time stores it
        s.execute(update(NotifyChannel).values(next_push_at=tomorrow))

    sql = _statements(settings, lambda: dispatch_due_pushes(now, settings=settings))
    assert len(sql) == 1 and sql[0].startswith("SELECT notify_channel.id"), sql
    assert "LIMIT" in sql[0] and "next_push_at <=" in sql[0], sql[0]
    assert got.posts == []

    # One channel due: one page, one claim, the athlete handled, its moment stored again.
    with session_scope(settings) as s:
        s.execute(
            update(NotifyChannel).where(NotifyChannel.id != first).values(status="paused", next_push_at=None)
        )
        s.execute(update(NotifyChannel).where(NotifyChannel.id == first).values(next_push_at=now))
    summary = dispatch_due_pushes(now, settings=settings)
    assert summary.sent == 1 and len(got.delivered("/ana")) == 1
    assert _moment(settings, first) == local_moment(DAY + timedelta(days=1), _send_time(settings), BERLIN)


def _send_time(settings: Settings):  # noqa: ANN201 - a datetime.time
    with session_scope(settings) as s:
        return s.scalar(select(Athlete.send_time))


def test_each_channel_keeps_the_moment_its_day_needs(
    settings_with_keys: Settings, receiver: tuple[str, Received]
) -> None:
    settings = settings_with_keys
    base, got = receiver
    night = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 03:00 in Berlin, before the 06:30 send time
    with session_scope(settings) as s:
        athlete = add_athlete(s, "ana", email="ana@example.org", timezone=BERLIN, max_hr=190, rest_hr=50)
        s.flush()
        ana = athlete.id
        ok = add_channel(s, ana, f"{base}/ok", settings, night).id
        blip = add_channel(s, ana, f"{base}/blip", settings, night).id
        record_soreness(s, athlete, DAY, 5)  # sore this morning: EASY
        compute_verdict(s, athlete, DAY)  # the morning's verdict, as a sync at wake time stores it
    assert _moment(settings, ok) == DUE_AT_ONCE  # a new channel is looked at by the next tick
    send = local_moment(DAY, _send_time(settings), BERLIN)

    dispatch_due_pushes(night, settings=settings)
    assert got.posts == [] and _moment(settings, ok) == _moment(settings, blip) == send

    got.script["/blip"] = [500]  # a blip, then fine
    assert dispatch_due_pushes(send - timedelta(seconds=1), settings=settings).sent == 0  # not yet: no claim
    dispatch_due_pushes(send, settings=settings)
    tomorrow = local_moment(DAY + timedelta(days=1), _send_time(settings), BERLIN)
    assert _moment(settings, ok) == tomorrow
    assert _moment(settings, blip) == send + timedelta(seconds=60)  # the retry's backoff
    dispatch_due_pushes(send + timedelta(seconds=60), settings=settings)
    assert _moment(settings, blip) == tomorrow
    assert [len(got.delivered(p)) for p in ("/ok", "/blip")] == [1, 1]

    # A new verdict of the day, after its send moment: both due at once, and a reschedule
    # (a task that was running meanwhile) leaves the wake-up in place.
    later = send + timedelta(hours=3)
    with session_scope(settings) as s:
        record_soreness_and_recompute(s, s.get(Athlete, ana), DAY, 9, settings)
    assert _moment(settings, ok) == _moment(settings, blip) == DUE_AT_ONCE
    with session_scope(settings) as s:
        reschedule(s, ana, later, settings)
    assert _moment(settings, ok) == DUE_AT_ONCE
    dispatch_due_pushes(later, settings=settings)
    titles = [b["title"] for b in got.delivered("/ok")]
    assert len(titles) == 2 and titles[1].startswith("Update: REST"), titles
    assert _moment(settings, ok) == _moment(settings, blip) == tomorrow

    # A resumed channel (paused by its failing days: test_push_dispatch.py) is due at once.
    with session_scope(settings) as s:
        s.execute(
            update(NotifyChannel).where(NotifyChannel.id == ok).values(status="paused", next_push_at=None)
        )
        resume_channel(s, ana, ok)
    assert _moment(settings, ok) == DUE_AT_ONCE


def test_an_update_whose_flag_changed_back_is_not_waited_on(
    settings_with_keys: Settings, receiver: tuple[str, Received]
) -> None:
    """An update that failed, then stopped being due (the flag came back), is never taken up
    again: the channel waits for the next day, not for that update's retry at every tick."""
    settings = settings_with_keys
    base, got = receiver
    with session_scope(settings) as s:
        athlete = add_athlete(s, "ana", email="ana@example.org", timezone=BERLIN, max_hr=190, rest_hr=50)
        s.flush()
        ana = athlete.id
        channel = add_channel(s, ana, f"{base}/c", settings, datetime(2026, 3, 9, tzinfo=UTC)).id
        record_soreness(s, athlete, DAY, 5)  # EASY this morning
        compute_verdict(s, athlete, DAY)
    send = local_moment(DAY, _send_time(settings), BERLIN)
    dispatch_due_pushes(send, settings=settings)
    assert [b["title"].split()[0] for b in got.delivered("/c")] == ["EASY"]

    got.script["/c"] = [500]  # the update's first try fails: a retry 60 s later
    with session_scope(settings) as s:
        record_soreness_and_recompute(s, s.get(Athlete, ana), DAY, 9, settings)  # REST
    dispatch_due_pushes(send + timedelta(hours=1), settings=settings)
    assert _moment(settings, channel) == send + timedelta(hours=1, seconds=60)
    with session_scope(settings) as s:  # EASY again before the retry: nothing left to say
        record_soreness_and_recompute(s, s.get(Athlete, ana), DAY, 5, settings)
    dispatch_due_pushes(send + timedelta(hours=2), settings=settings)
    tomorrow = local_moment(DAY + timedelta(days=1), _send_time(settings), BERLIN)
    assert _moment(settings, channel) == tomorrow
    assert [b["title"].split()[0] for b in got.delivered("/c")] == ["EASY"]
