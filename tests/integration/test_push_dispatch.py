"""Push messages through Apprise over real HTTP (a `json://` receiver on loopback), both backends.

Three athletes in three time zones, two channels each, every beat tick doubled (two dispatchers
at once), one channel answering 500 then 200, one answering 400 forever: each channel receives
exactly one morning message per athlete-day, the refusing channel is paused after 3 days and its
athlete told by email (a real SMTP server), and a check-in that turns EASY into REST sends one
update per channel while one that keeps the flag sends none.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

import testkit.smtp_server as smtp_fixtures
from sync.athletes import add_athlete
from sync.config import Settings, get_settings
from sync.db.models import Athlete, ChannelDelivery, NotifyChannel
from sync.db.session import session_scope
from sync.db.statuses import ChannelStatus
from sync.morning_push import dispatch_due_pushes
from sync.notify.push.channels import add_channel, list_channels
from sync.notify.push.dispatch import PushSummary
from sync.scheduling import local_today
from sync.verdicts.announced import day_answer
from sync.verdicts.compute import record_soreness
from sync.verdicts.policy import record_soreness_and_recompute
from testkit.push_receiver import Received, push_receiver
from testkit.smtp_server import SmtpServer

smtp_server = smtp_fixtures.smtp_server  # the fixture, for this module

ZONES = {"berlin": "Europe/Berlin", "newyork": "America/New_York", "sydney": "Australia/Sydney"}


@pytest.fixture
def receiver() -> Iterator[tuple[str, Received]]:
    with push_receiver() as found:
        yield found


def _settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("LEGDAY_REPORT_SECRET", "a-test-secret-for-signed-links-0123456789")
    monkeypatch.setenv("LEGDAY_PUSH_RETRY_BACKOFF_S", "60")
    monkeypatch.setenv("LEGDAY_SECRET_KEY", Fernet.generate_key().decode())  # channel URLs at rest
    get_settings.cache_clear()
    return get_settings()


def _athletes(settings: Settings, base: str, now: datetime) -> dict[str, int]:
    ids = {}
    with session_scope(settings) as s:
        for name, tz in ZONES.items():
            athlete = add_athlete(s, name, email=f"{name}@example.org", timezone=tz, max_hr=190, rest_hr=50)
            s.flush()
            for channel in ("a", "b"):
                add_channel(s, athlete.id, f"{base}/{name}/{channel}", settings, now)
            ids[name] = athlete.id
    return ids


def _tick(settings: Settings, now: datetime) -> PushSummary:
    """One beat tick, doubled: two dispatchers at the same moment."""
    results: list[PushSummary] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        results.append(dispatch_due_pushes(now, settings=settings))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    total = PushSummary()
    for r in results:
        total.merge(r)
    return total


def test_each_channel_gets_one_morning_message_per_day_and_a_refusing_one_is_paused(
    db_settings: Settings,
    receiver: tuple[str, Received],
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, got = receiver
    settings = _settings(monkeypatch)
    start = datetime(2026, 3, 9, 20, 0, tzinfo=UTC)
    ids = _athletes(settings, base, start)
    got.script["/berlin/b"] = [500]  # a blip, then fine
    got.refuse["/sydney/b"] = 400  # a revoked token: refused for good, every day

    per_day: Counter[tuple[str, date]] = Counter()
    for step in range(0, 4 * 24 * 2):  # a tick every 30 minutes for four days
        now = start + timedelta(minutes=30 * step)
        before = len(got.posts)
        _tick(settings, now)
        for path, body, code in got.posts[before:]:
            if 200 <= code < 300:
                name = path.split("/")[1]
                per_day[(path, local_today(ZONES[name], now))] += 1
                assert body["title"].split()[0] in ("RUN", "EASY", "REST"), body

    days = {name: {day for (p, day) in per_day if p.startswith(f"/{name}/")} for name in ZONES}
    # 20:00 UTC is past the send time of day one everywhere (07:00 next day in Sydney): 5 days.
    assert {name: len(d) for name, d in days.items()} == {"berlin": 5, "newyork": 5, "sydney": 5}, days
    assert set(per_day.values()) == {1}, "a channel got a second message on one day"
    for name in ZONES:
        for channel in ("a", "b"):
            path = f"/{name}/{channel}"
            expected = set() if path == "/sydney/b" else days[name]
            assert {d for (p, d) in per_day if p == path} == expected, path
    # The 500 was retried at the next tick and delivered; the 400s were not retried at all.
    codes = Counter((p, c) for p, _, c in got.posts)
    assert codes[("/berlin/b", 500)] == 1 and codes[("/berlin/b", 200)] == 5
    assert codes[("/sydney/b", 400)] == 3 and sum(n for (p, _), n in codes.items() if p == "/sydney/b") == 3

    with session_scope(settings) as s:
        channels = {c.id: c for c in s.scalars(select(NotifyChannel))}
        paused = [c for c in channels.values() if c.status == ChannelStatus.PAUSED]
        assert len(paused) == 1 and paused[0].athlete_id == ids["sydney"]
        assert "HTTP 400" in (paused[0].status_reason or "")
        assert paused[0].next_push_at is None  # never due while paused
        assert all(c.next_push_at is not None for c in channels.values() if c is not paused[0])
        shown = list_channels(s, ids["sydney"], settings)
        refused = s.scalars(
            select(ChannelDelivery).where(
                ChannelDelivery.channel_id == paused[0].id, ChannelDelivery.kind == "morning"
            )
        ).all()
    assert [(r.status, r.attempts) for r in refused] == [("failed", 1)] * 3
    assert all("HTTP 400" in (r.error or "") for r in refused)
    host = base.removeprefix("json://")
    assert [(c.status, c.shown) for c in shown] == [
        ("active", f"json://{host}/sy…/a"),  # the path (a secret for most services) is cut
        ("paused", f"json://{host}/sy…/b"),
    ]
    told = smtp_server.recorder.to("sydney@example.org")
    assert len(told) == 1 and "paused" in told[0]["Subject"]
    text = told[0].get_body(("plain",)).get_content()
    assert (
        "3 days in a row" in text
        and "HTTP 400" in text
        and base.split("//")[1] not in text.replace("127.0.0.1", "")
    )

    # Every message says the flag, the deciding reason and the link to the report page.
    morning = got.delivered("/newyork/a")[0]
    assert "/r/" in morning["message"] and morning["message"].splitlines()[0].split(":")[0] in (
        "RUN",
        "EASY",
        "REST",
    )


def test_a_check_in_that_changes_the_flag_sends_one_update_and_one_that_keeps_it_none(
    db_settings: Settings,
    receiver: tuple[str, Received],
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, got = receiver
    settings = _settings(monkeypatch)
    day = date(2026, 3, 10)
    now = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # past 06:30 in Berlin and New York
    ids = _athletes(settings, base, now)
    with session_scope(settings) as s:  # sore legs this morning: EASY for both
        for name in ("berlin", "newyork"):
            record_soreness(s, s.get(Athlete, ids[name]), day, 5)
    _tick(settings, now)
    for name in ("berlin", "newyork"):
        for channel in ("a", "b"):
            titles = [b["title"] for b in got.delivered(f"/{name}/{channel}")]
            assert len(titles) == 1 and titles[0].startswith("EASY today"), titles

    with session_scope(settings) as s:  # Berlin can barely walk; New York is a little sorer
        record_soreness_and_recompute(s, s.get(Athlete, ids["berlin"]), day, 8, settings)
        record_soreness_and_recompute(s, s.get(Athlete, ids["newyork"]), day, 6, settings)
    for k in range(1, 4):  # later ticks, each doubled: still one update
        _tick(settings, now + timedelta(minutes=10 * k))
    with session_scope(settings) as s:  # REST still: no second update
        record_soreness_and_recompute(s, s.get(Athlete, ids["berlin"]), day, 9, settings)
    _tick(settings, now + timedelta(minutes=50))

    for channel in ("a", "b"):
        berlin = [b["title"] for b in got.delivered(f"/berlin/{channel}")]
        assert len(berlin) == 2 and berlin[1].startswith("Update: REST today, not EASY (soreness"), berlin
        body = got.delivered(f"/berlin/{channel}")[1]["message"]
        assert "This morning said EASY; updated at " in body and ": REST (soreness 8/10)" in body
        assert len(got.delivered(f"/newyork/{channel}")) == 1  # EASY stayed EASY: nothing to say

    # The day's verdict stays the morning's; the change shows as the update.
    with session_scope(settings) as s:
        answer = day_answer(s, ids["berlin"], day)
        kept = day_answer(s, ids["newyork"], day)
    assert answer is not None and str(answer.day.flag) == "EASY" and str(answer.latest.flag) == "REST"
    line = answer.update_line("Europe/Berlin")
    assert line is not None and line.startswith("updated at ") and line.endswith(": REST (soreness 9/10)")
    assert kept is not None and kept.update is None and str(kept.day.flag) == "EASY"
