"""Push messages through a real `legday worker` (prefork, its own Redis, PostgreSQL), killed mid-send.

Three athletes in three time zones with two `json://` channels each on a loopback receiver.
Beat's tick is doubled; the worker's child is SIGKILLed while its request to one channel is in
flight (the receiver holds it), and the task comes back to a new child: every channel still
receives exactly one morning message, the one in flight included (its row stays `sending`,
never sent blindly again), and the Celery messages carry ids, never a channel's URL.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from sync.athletes import add_athlete
from sync.config import Settings
from sync.db.models import ChannelDelivery
from sync.db.session import session_scope
from sync.notify.push.channels import add_channel
from sync.sandbox import Sandbox
from testkit.chaos_crash import CrashEngine, OwnRedis, children, wait_for
from testkit.push_receiver import Received, push_receiver
from testkit.smtp_server import SmtpServer

ZONES = {"berlin": "Europe/Berlin", "newyork": "America/New_York", "sydney": "Australia/Sydney"}
NOW = datetime(2026, 3, 10, 21, 0, tzinfo=UTC)  # past the send time of a day in all three zones


class PushEngine(CrashEngine):
    """The crash engine's worker and Redis, with claims taken over after a minute."""

    def env(self) -> dict[str, str]:
        env = super().env()
        env.update(LEGDAY_EMAIL_CLAIM_TIMEOUT_S="60", LEGDAY_PUSH_TIMEOUT_S="30")
        return env


@pytest.fixture
def engine(service_settings: Settings, tmp_path: Path, smtp_server: SmtpServer) -> Iterator[PushEngine]:
    own = OwnRedis(tmp_path)
    own.start()
    with Sandbox() as sb:  # the engine's Garmin side; unused here
        eng = PushEngine(sb, service_settings, own, smtp_server.recorder.messages, tmp_path)
        try:
            eng.start_worker()
            yield eng
        finally:
            eng.close()
            own.stop()


@pytest.fixture
def receiver() -> Iterator[tuple[str, Received]]:
    with push_receiver() as found:
        yield found


def _queued_messages(url: str) -> list[bytes]:
    """Every message waiting in our Redis (the queues and the unacked hash), raw."""
    client = redis.Redis.from_url(url)
    try:
        raw: list[bytes] = []
        for key in client.keys("*"):
            kind = client.type(key)
            if kind == b"list":
                raw += client.lrange(key, 0, -1)
            elif kind == b"hash":
                raw += list(client.hgetall(key).values())
        return raw
    finally:
        client.close()


@pytest.mark.long
def test_a_worker_killed_mid_send_and_a_doubled_tick_send_each_morning_message_once(
    engine: PushEngine, receiver: tuple[str, Received]
) -> None:
    base, got = receiver
    settings = engine.settings
    with session_scope(settings) as s:
        for name, tz in ZONES.items():
            athlete = add_athlete(s, name, email=f"{name}@example.org", timezone=tz, max_hr=190, rest_hr=50)
            s.flush()
            for channel in ("a", "b"):
                host = base.removeprefix("json://")
                url = f"json://legday:tok-{name}-{channel}@{host}/{name}/{channel}"  # a password: a secret
                add_channel(s, athlete.id, url, settings, NOW)
    got.hold.add("/berlin/a")

    for _ in range(2):  # the doubled tick
        engine.send("dispatch_pushes", NOW.isoformat())
    assert got.arrived.wait(90), (engine.log.read_text()[-3000:], got.posts)
    assert not any(b"tok-" in m for m in _queued_messages(engine.redis_server.url)), "a URL in a message"
    assert engine.worker is not None
    kids = children(engine.worker.pid)
    assert kids, "no worker child to kill"
    for pid in kids:
        os.kill(pid, signal.SIGKILL)  # mid-send: the request to /berlin/a is in flight
    got.released.set()  # the service took the message; nobody is left to hear its answer
    got.hold.clear()

    paths = {f"/{n}/{c}" for n in ZONES for c in ("a", "b")}
    assert wait_for(lambda: {p for p, _, _ in got.posts} == paths, 120), (got.posts, engine.log)
    # Later ticks, doubled again, after the claim timeout: nothing is sent twice.
    for minutes in (20, 40):
        for _ in range(2):
            engine.send("dispatch_pushes", (NOW + timedelta(minutes=minutes)).isoformat())
    assert wait_for(engine.idle, 120), "the worker did not finish"
    with session_scope(settings) as s:
        rows = s.execute(select(ChannelDelivery.kind, ChannelDelivery.status)).all()

    assert Counter(p for p, _, _ in got.posts) == Counter(dict.fromkeys(paths, 1)), got.posts
    assert sorted(rows) == sorted([("morning", "sending")] + [("morning", "sent")] * 5), rows
    text = engine.log.read_text()
    assert "WorkerLostError" in text or "exited prematurely" in text, "no child died mid-task"
    assert "tok-" not in text, "a channel URL in the worker's log"
