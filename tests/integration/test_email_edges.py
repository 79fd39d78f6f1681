"""Issue 18, items 4-7: the daily email at the edges, over real SMTP on loopback, on both backends.

4. An SMTP session that ends ambiguously after the message (QUIT answered 421, the final 250 past
   the client's timeout, the connection cut after the dot) is never sent a second time.
5. A database blip while composing (PostgreSQL backends terminated, SQLite locked) defers the
   email; it is never given up for good.
6. An outbox or sender error other than SMTP's never strands a row in `sending`, and never stops
   the other athletes of the run.
7. An athlete whose time zone the installed tzdata lacks is reported once; the others are sent.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import create_engine, event, select, text, update

import testkit.smtp_server as smtp_fixtures
from sync.athletes import add_athlete
from sync.config import Settings, get_settings
from sync.db.models import Athlete, EmailDelivery
from sync.db.session import engine_for, session_scope
from sync.morning_email import dispatch_due_emails
from sync.notify.message import stable_message_id
from sync.notify.outbox import OutboxSender
from sync.notify.smtp import SmtpSender
from testkit.factories import postgres_only, sqlite_only
from testkit.helpers import run_cli, wait_for
from testkit.smtp_server import SmtpServer

smtp_server = smtp_fixtures.smtp_server  # the fixture, for this module

NOW = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)  # past 06:30 in UTC and in Berlin


def _settings() -> Settings:
    get_settings.cache_clear()  # the SMTP and database variables are set by now
    return get_settings()


def _athletes(settings: Settings, *names: str, tz: str = "UTC") -> dict[str, int]:
    with session_scope(settings) as s:
        return {
            n: add_athlete(s, n, email=f"{n}@example.org", timezone=tz, max_hr=190, rest_hr=50).id
            for n in names
        }


def _rows(settings: Settings) -> dict[int, EmailDelivery]:
    with session_scope(settings) as s:
        return {r.athlete_id: r for r in s.scalars(select(EmailDelivery))}


def _later(settings: Settings, n: int = 1) -> datetime:
    """A tick past the retry backoff of attempt `n`, the same day."""
    return NOW + timedelta(seconds=settings.email_retry_backoff_s * 2**n + 1)


# --- item 4: ambiguous SMTP endings are never sent again -------------------------------------


def test_quit_answered_421_after_the_250_is_sent_once(db_settings: Settings, smtp_server: SmtpServer) -> None:
    settings = _settings()
    ids = _athletes(settings, "ana")
    smtp_server.recorder.quit_reply = "421 4.3.2 Service shutting down"
    first = dispatch_due_emails(NOW, settings=settings)
    again = dispatch_due_emails(_later(settings), settings=settings)
    assert len(smtp_server.recorder.to("ana@example.org")) == 1
    assert (first.sent, again.already_sent, again.sent) == (1, 0, 0)  # settled: not looked at again
    row = _rows(settings)[ids["ana"]]
    assert row.status == "sent" and row.attempts == 1
    assert "421" in (row.error or "")  # the odd ending is on record


def test_a_connection_cut_instead_of_quits_answer_is_sent_once(
    db_settings: Settings, smtp_server: SmtpServer
) -> None:
    settings = _settings()
    ids = _athletes(settings, "ana")
    smtp_server.recorder.quit_reply = "drop"
    dispatch_due_emails(NOW, settings=settings)
    dispatch_due_emails(_later(settings), settings=settings)
    assert len(smtp_server.recorder.to("ana@example.org")) == 1
    row = _rows(settings)[ids["ana"]]
    assert (row.status, row.attempts, row.error) == ("sent", 1, None)


def test_a_final_250_after_the_client_timeout_is_never_sent_again(
    db_settings: Settings, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEGDAY_SMTP_TIMEOUT_S", "2")  # generous: only the late 250 may miss it
    smtp_server.recorder.after_dot.append("late")
    smtp_server.recorder.late_s = 5.0
    settings = _settings()
    ids = _athletes(settings, "ana", "bo")
    first = dispatch_due_emails(NOW, settings=settings)
    for n in (1, 2, 3):
        dispatch_due_emails(_later(settings, n), settings=settings)
    assert len(smtp_server.recorder.to("ana@example.org")) == 1
    assert len(smtp_server.recorder.to("bo@example.org")) == 1
    rows = _rows(settings)
    assert rows[ids["ana"]].status == "unconfirmed" and rows[ids["ana"]].attempts == 1
    assert "no reply" in (rows[ids["ana"]].error or "")
    assert rows[ids["bo"]].status == "sent"
    assert (first.sent, first.unconfirmed, first.failed) == (1, 1, 0)
    assert first.line() == "sent 1, already sent 0, not due 0, failed 0, unconfirmed 1"


def test_a_connection_cut_after_the_dot_is_never_sent_again(
    db_settings: Settings, smtp_server: SmtpServer
) -> None:
    smtp_server.recorder.after_dot.append("drop")
    settings = _settings()
    ids = _athletes(settings, "ana")
    first = run_cli("email", "dispatch", "--now", NOW.isoformat())  # as cron would run it
    assert first.exit_code == 1  # someone should look
    assert first.output.strip() == "sent 0, already sent 0, not due 0, failed 0, unconfirmed 1"
    again = run_cli("email", "dispatch", "--now", _later(settings).isoformat())
    assert again.output.strip() == "sent 0, already sent 0, not due 0, failed 0"  # settled: not looked at
    assert len(smtp_server.recorder.to("ana@example.org")) == 1
    row = _rows(settings)[ids["ana"]]
    assert row.status == "unconfirmed" and "no reply" in (row.error or "")
    # ... and `legday email status` shows it, reason included.
    (shown,) = json.loads(run_cli("email", "status", "--date", NOW.date().isoformat(), "--json").output)
    assert (shown["athlete"], shown["status"]) == ("ana", "unconfirmed") and "no reply" in shown["reason"]


def test_a_4xx_answer_to_the_message_is_still_retried(db_settings: Settings, smtp_server: SmtpServer) -> None:
    """The other side of item 4: a 4xx to the message is a clear answer, so the email is retried."""
    smtp_server.recorder.fail_data.append("451 4.3.0 Try again later")
    smtp_server.recorder.quit_reply = "421 4.3.2 Service shutting down"
    settings = _settings()
    ids = _athletes(settings, "ana")
    dispatch_due_emails(NOW, settings=settings)
    assert _rows(settings)[ids["ana"]].status == "retry"
    dispatch_due_emails(_later(settings), settings=settings)
    assert len(smtp_server.recorder.to("ana@example.org")) == 1
    assert _rows(settings)[ids["ana"]].status == "sent"


def test_a_connection_cut_before_the_message_is_retried(
    db_settings: Settings, smtp_server: SmtpServer
) -> None:
    smtp_server.recorder.refuse_rcpt["ana@example.org"] = "drop"
    settings = _settings()
    ids = _athletes(settings, "ana")
    dispatch_due_emails(NOW, settings=settings)
    row = _rows(settings)[ids["ana"]]
    assert row.status == "retry" and "SMTPServerDisconnected" in (row.error or "")
    del smtp_server.recorder.refuse_rcpt["ana@example.org"]
    dispatch_due_emails(_later(settings), settings=settings)
    assert len(smtp_server.recorder.to("ana@example.org")) == 1
    assert _rows(settings)[ids["ana"]].status == "sent"


# --- item 5: a database blip while composing defers the email, never fails it ------------------


@postgres_only
def test_postgres_backends_terminated_while_composing(db_settings: Settings, smtp_server: SmtpServer) -> None:
    settings = _settings()
    ids = _athletes(settings, "ana", "bo")
    admin = create_engine(settings.sqlalchemy_url)
    results = []
    with admin.connect() as conn:
        # Hold the verdict table: the first compose blocks on it (nothing before composing
        # reads it), then every backend of the database but this one is terminated.
        conn.execute(text("LOCK TABLE verdict IN ACCESS EXCLUSIVE MODE"))
        worker = threading.Thread(target=lambda: results.append(dispatch_due_emails(NOW, settings=settings)))
        worker.start()

        def blocked() -> bool:
            return bool(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                    )
                ).scalar()
            )

        assert wait_for(blocked, 30), "the dispatcher never reached the verdict table"
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
        conn.rollback()  # the lock goes
    admin.dispose()
    worker.join(60)
    assert killed and killed >= 1 and len(results) == 1
    rows = _rows(settings)
    ana = rows[ids["ana"]]
    assert ana.status == "retry", (ana.status, ana.error)  # not `failed`: it was the database
    assert "database" in (ana.error or "")
    assert rows[ids["bo"]].status == "sent"  # the others go on in the same run
    dispatch_due_emails(_later(settings, 0), settings=settings)
    assert {a: r.status for a, r in _rows(settings).items()} == {ids["ana"]: "sent", ids["bo"]: "sent"}
    assert sorted(m["To"] for m in smtp_server.recorder.messages) == ["ana@example.org", "bo@example.org"]


@pytest.mark.long
@sqlite_only
def test_sqlite_locked_while_composing(db_settings: Settings, smtp_server: SmtpServer) -> None:
    settings = _settings()
    ids = _athletes(settings, "ana", "bo")
    engine = engine_for(settings.sqlalchemy_url)
    path = settings.sqlalchemy_url.split("///", 1)[1]
    locker: list[sqlite3.Connection] = []

    # Another process's writer takes the database as the first compose starts reading (the
    # engine's own events mark that moment) and lets go once the compose has failed on it.
    def take_lock(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        if not locker and re.search(r"\bFROM verdict\b", statement):
            other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            other.execute("BEGIN IMMEDIATE")
            locker.append(other)

    def let_go(context) -> None:  # noqa: ANN001
        if locker and locker[0].in_transaction:
            locker[0].execute("ROLLBACK")

    event.listen(engine, "before_cursor_execute", take_lock)
    event.listen(engine, "handle_error", let_go)
    try:
        first = dispatch_due_emails(NOW, settings=settings)
    finally:
        event.remove(engine, "before_cursor_execute", take_lock)
        event.remove(engine, "handle_error", let_go)
        for conn in locker:
            conn.close()
    assert locker, "the lock was never taken"
    rows = _rows(settings)
    ana = rows[ids["ana"]]
    assert ana.status == "retry", (ana.status, ana.error)
    assert "locked" in (ana.error or "")
    assert rows[ids["bo"]].status == "sent" and (first.sent, first.failed) == (1, 1)
    dispatch_due_emails(_later(settings, 0), settings=settings)
    assert {a: r.status for a, r in _rows(settings).items()} == {ids["ana"]: "sent", ids["bo"]: "sent"}
    assert sorted(m["To"] for m in smtp_server.recorder.messages) == ["ana@example.org", "bo@example.org"]


# --- item 6: other sender errors: never stranded in `sending`, never stopping the run ----------


def test_an_outbox_write_error_is_retried_and_the_others_are_written(db_settings: Settings) -> None:
    settings = _settings()
    ids = _athletes(settings, "ana", "bo")
    outbox = settings.data_dir / "outbox"
    # ana's file name is taken by a folder: writing her email fails with an OSError.
    stem = stable_message_id(ids["ana"], NOW.date(), "daily", settings.mail_from).strip("<>")
    blocker = outbox / f"{stem}.eml"
    (blocker / "in-the-way").mkdir(parents=True)
    summary = dispatch_due_emails(NOW, settings=settings)
    rows = _rows(settings)
    assert rows[ids["ana"]].status == "retry" and "outbox" in (rows[ids["ana"]].error or "")
    assert rows[ids["bo"]].status == "sent" and (summary.sent, summary.failed) == (1, 1)
    assert len(list(outbox.glob("*.eml"))) == 2  # bo's file and ana's folder
    (blocker / "in-the-way").rmdir()
    blocker.rmdir()
    dispatch_due_emails(_later(settings), settings=settings)
    assert _rows(settings)[ids["ana"]].status == "sent" and blocker.is_file()


class _BrokenFor:
    """A sender (the dispatcher's public interface) that hits a bug for one address, SMTP otherwise."""

    def __init__(self, address: str, inner: SmtpSender | OutboxSender) -> None:
        self.address, self.inner = address, inner

    def send(self, message: EmailMessage) -> str | None:
        if message["To"] == self.address:
            raise RuntimeError("a bug in the sender")
        return self.inner.send(message)


def test_an_unexpected_sender_exception_never_strands_the_row_or_stops_the_run(
    db_settings: Settings, smtp_server: SmtpServer
) -> None:
    settings = _settings()
    ids = _athletes(settings, "ana", "bo", "cy")
    broken = _BrokenFor("ana@example.org", SmtpSender.from_settings(settings))
    summary = dispatch_due_emails(NOW, settings=settings, sender=broken)
    rows = _rows(settings)
    assert rows[ids["ana"]].status == "retry" and "RuntimeError" in (rows[ids["ana"]].error or "")
    assert rows[ids["bo"]].status == rows[ids["cy"]].status == "sent"
    assert (summary.sent, summary.failed) == (2, 1)
    dispatch_due_emails(_later(settings), settings=settings)  # fixed: the plain sender
    assert _rows(settings)[ids["ana"]].status == "sent"
    assert len(smtp_server.recorder.to("ana@example.org")) == 1


# --- item 7: a time zone the installed tzdata lacks is one athlete's problem -------------------


def test_an_unknown_time_zone_is_reported_once_and_the_others_are_sent(
    db_settings: Settings, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _settings()
    ids = _athletes(settings, "ana", "bo", "cy", tz="Europe/Berlin")
    with session_scope(settings) as s:  # valid where it was set; this machine's tzdata lacks it
        s.execute(update(Athlete).where(Athlete.id == ids["bo"]).values(timezone="Europe/Atlantis"))
    caplog.set_level(logging.WARNING, logger="sync.notify.dispatch")
    first = dispatch_due_emails(NOW, settings=settings)
    ticks = [dispatch_due_emails(NOW + timedelta(minutes=5 * k), settings=settings) for k in (1, 2, 3)]
    queued: list[int] = []
    dispatch_due_emails(
        NOW + timedelta(minutes=30), settings=settings, hand_off=lambda a, _: queued.append(a)
    )
    assert sorted(m["To"] for m in smtp_server.recorder.messages) == ["ana@example.org", "cy@example.org"]
    assert (first.sent, first.failed) == (2, 1)
    assert all(t.failed == 0 for t in ticks) and queued == []
    told = [r for r in caplog.records if "Europe/Atlantis" in r.getMessage()]
    assert len(told) == 1, [r.getMessage() for r in told]
    row = _rows(settings)[ids["bo"]]
    assert row.status == "skipped" and "Europe/Atlantis" in (row.error or "")
    shown = {r["athlete"]: r for r in json.loads(run_cli("email", "status", "--json").output)}
    assert shown["bo"]["status"] == "skipped" and "Europe/Atlantis" in shown["bo"]["reason"]
    assert shown["ana"]["status"] == "sent" and shown["ana"]["reason"] is None

    # Fixed the same day: bo's email goes out after all.
    with session_scope(settings) as s:
        s.execute(update(Athlete).where(Athlete.id == ids["bo"]).values(timezone="Europe/Berlin"))
    fixed = dispatch_due_emails(NOW + timedelta(hours=1), settings=settings)
    assert fixed.sent == 1 and len(smtp_server.recorder.to("bo@example.org")) == 1
    assert _rows(settings)[ids["bo"]].status == "sent"
