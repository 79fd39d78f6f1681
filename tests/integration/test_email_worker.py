"""The email beat task through a real Celery worker on Redis (DB 12, a private queue)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

import testkit.smtp_server as smtp_fixtures
from sync.config import Settings, get_settings
from sync.db.models import Athlete, EmailDelivery
from sync.db.session import session_scope
from testkit.celery_worker import FINISHED, in_process_worker
from testkit.factories import make_athlete
from testkit.helpers import redis_db_url, wait_for
from testkit.smtp_server import SmtpServer
from worker.schedule import beat_schedule
from worker.tasks import dispatch_emails

REDIS_URL = redis_db_url(12)  # DB 12 is this suite's; other runs use 13-15
smtp_server = smtp_fixtures.smtp_server  # the fixture, for this module


@pytest.fixture
def email_worker() -> Iterator[None]:
    """A real worker thread consuming a private queue on Redis DB 12."""
    with in_process_worker(REDIS_URL, "legday-email-test"):
        yield


def _rows(settings: Settings) -> dict[str, EmailDelivery]:
    with session_scope(settings) as s:
        return {
            name: row
            for row, name in s.execute(
                select(EmailDelivery, Athlete.name).join(Athlete, Athlete.id == EmailDelivery.athlete_id)
            ).all()
        }


def test_beat_runs_the_dispatcher_every_few_minutes() -> None:
    entry = beat_schedule()["dispatch-emails"]
    assert entry["task"] == "worker.tasks.dispatch_emails"
    assert entry["schedule"] <= 600 and entry["options"]["expires"] < entry["schedule"]


def test_worker_sends_once_retries_transient_and_records_permanent(
    db_settings: Settings, smtp_server: SmtpServer, email_worker: None
) -> None:
    get_settings.cache_clear()  # SMTP variables are set now
    settings = get_settings()
    with session_scope(settings) as s:
        for name, tz in (("ana", "Europe/Berlin"), ("bo", "America/New_York"), ("cy", "Australia/Sydney")):
            make_athlete(s, name, email=f"{name}@example.org", timezone=tz)
    smtp_server.recorder.fail_data.append("451 4.7.1 Greylisted, try again later")  # ana's first try
    smtp_server.recorder.refuse_rcpt["cy@example.org"] = "550 5.1.1 Mailbox unavailable"
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # past 06:30 everywhere

    mark = FINISHED.mark()
    ticks = [dispatch_emails.delay(now.isoformat()).id for _ in range(2)]  # a doubled tick

    def settled() -> bool:
        # Both ticks ran, and so did every send task they handed off (the doubled ones too).
        if not FINISHED.done(*ticks):
            return False
        handed_off = sum(summary["queued"] for summary in FINISHED.results(*ticks))
        return FINISHED.count("worker.tasks.send_daily_email", since=mark) >= handed_off

    assert wait_for(settled), "the worker did not dispatch in time"
    rows = _rows(settings)
    assert {n: (r.status, r.attempts) for n, r in rows.items()} == {
        "ana": ("retry", 1),
        "bo": ("sent", 1),
        "cy": ("failed", 1),
    }
    assert [m["To"] for m in smtp_server.recorder.messages] == ["bo@example.org"]

    dispatch_emails.delay((now + timedelta(seconds=settings.email_retry_backoff_s)).isoformat())
    assert wait_for(lambda: _rows(settings)["ana"].status == "sent"), "the retry did not go out"
    rows = _rows(settings)
    assert (rows["ana"].attempts, rows["cy"].status, rows["cy"].attempts) == (2, "failed", 1)
    assert sorted(m["To"] for m in smtp_server.recorder.messages) == ["ana@example.org", "bo@example.org"]
