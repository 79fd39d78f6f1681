"""`dispatch_due_emails(now)`: each athlete's daily email, at their local send time, at most once.

The `email_delivery` row of (athlete, local date) is inserted before anything is sent; its
unique constraint decides which dispatcher sends. A row moves through:

    claimed -> sending -> sent
                       -> unconfirmed (the message was out, no reply came: never sent again)
                       -> retry (transient failure; taken up again after a backoff) -> ...
                       -> failed (permanent failure, or too many attempts)
    claimed -> retry (the database failed while composing: nothing was sent)
    skipped (the athlete's data cannot say when their day is, e.g. an unknown time zone)

Transactions: the dispatcher is an entry point that owns its sessions (docs/decisions.md, "One
transaction rule"). Each state change of a row is its own short transaction, opened here from
settings, because the claim must be committed before the send: that is what makes it exactly
once. The claim, its takeover, the retry backoff and the row's writes are sync/notify/claims.py,
shared with the push channels. The helpers that take a `session` argument only read or flush
and never commit.

`claimed` means no SMTP server has seen the message yet, so a claim abandoned for longer than
LEGDAY_EMAIL_CLAIM_TIMEOUT_S is taken over; so is a `skipped` row once the athlete is due.
`sending` and `unconfirmed` are never taken over: the server may have the message, and a second
email is worse than a missing one. One athlete's failure, whatever it is, is recorded on that
athlete's row and never stops the others. docs/email.md explains the reasoning.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sync.config import Settings, get_settings
from sync.credential_end import has_ended
from sync.db import transient
from sync.db.models import Athlete, EmailDelivery, GarminAccount
from sync.db.session import session_scope
from sync.db.statuses import AccountStatus, DeliveryStatus
from sync.errors import DeliveryUnknown, PermanentError, TransientError
from sync.logging import log_context
from sync.notify.claims import (
    SETTLED_STATUSES,
    Outcome,
    Rows,
    claim,
    defer_or_fail,
    record,
    release,
    start_sending,
)
from sync.notify.compose import NoVerdictYet, daily_message, reauth_message
from sync.notify.notices import garmin_account, last_successful_sync
from sync.notify.senders import Sender, sender_from_settings
from sync.scheduling import local_moment, local_today
from sync.verdicts.announced import announce
from sync.verdicts.read import verdict_of

log = logging.getLogger(__name__)

# Runs before a daily email of (athlete id, day) is composed: the sender's glue computes the
# morning verdict there (`sync.verdicts.policy.ensure_morning_verdict_of`).
Prepare = Callable[[int, date, Settings], object]

TOLD_STATUSES = (
    DeliveryStatus.CLAIMED,
    DeliveryStatus.SENDING,
    DeliveryStatus.SENT,
    DeliveryStatus.UNCONFIRMED,
    DeliveryStatus.RETRY,
)

__all__ = ["DispatchSummary", "Outcome", "dispatch_due_emails", "dispatch_one"]


@dataclass
class DispatchSummary:
    """Counts of one dispatch run."""

    sent: int = 0
    already_sent: int = 0
    not_due: int = 0
    queued: int = 0  # handed off to per-athlete tasks (the worker's fan-out)
    failed: int = 0
    unconfirmed: int = 0

    def add(self, outcome: Outcome) -> None:
        """Count one athlete's outcome."""
        name = outcome.value.replace(" ", "_")
        setattr(self, name, getattr(self, name) + 1)

    def line(self) -> str:
        """`sent N, already sent M, not due K, failed F` (`, unconfirmed U` when U > 0)."""
        line = (
            f"sent {self.sent}, already sent {self.already_sent}, "
            f"not due {self.not_due}, failed {self.failed}"
        )
        return line + (f", unconfirmed {self.unconfirmed}" if self.unconfirmed else "")


def dispatch_due_emails(
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
    sender: Sender | None = None,
    hand_off: Callable[[int, datetime], None] | None = None,
    prepare: Prepare | None = None,
) -> DispatchSummary:
    """Send every email that is due at `now` (default: the clock) and not yet claimed.

    `hand_off(athlete_id, now)`, when given, takes each athlete that may be due instead of
    sending here (the worker queues one `dispatch_one` task each, so a fleet's morning is sent
    by every worker at once); they are counted as `queued`. Exactly once is unchanged: whoever
    runs `dispatch_one` claims the delivery row first. Athletes whose send time has not come,
    who have no address or whose email of the day is settled are answered here, cheaply.
    `prepare` is passed on to `dispatch_one` (see there).
    """
    settings = settings or get_settings()
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("dispatch_due_emails needs an aware datetime")
    summary = DispatchSummary()
    with session_scope(settings) as session:
        ids, settled, problems = _candidates(session, now)
    summary.not_due += settled.count(Outcome.NOT_DUE)
    summary.already_sent += settled.count(Outcome.ALREADY)
    for athlete_id, problem in problems:
        with log_context(athlete_id=athlete_id):
            summary.add(_skip(settings, athlete_id, now, problem))
    if hand_off is not None:
        for athlete_id in ids:
            hand_off(athlete_id, now)
        summary.queued = len(ids)
        return summary
    sender = sender or sender_from_settings(settings)
    for athlete_id in ids:
        with log_context(athlete_id=athlete_id):
            try:
                outcome = dispatch_one(athlete_id, now, settings, sender, prepare=prepare)
            except Exception as exc:  # noqa: BLE001 - one athlete's failure never stops the others
                # Before the claim or while recording it (the database went away): nothing
                # was sent, and the row, if any, is `claimed` and is taken over later.
                if transient.is_transient(exc):
                    log.warning(
                        "email dispatch of this athlete stopped: the database failed (%s); "
                        "the next tick tries again",
                        transient.reason(exc),
                    )
                else:
                    log.exception("email dispatch of this athlete stopped; the next tick tries again")
                outcome = Outcome.FAILED
            summary.add(outcome)
    return summary


def _candidates(session: Session, now: datetime) -> tuple[list[int], list[Outcome], list[tuple[int, str]]]:
    """The athletes `dispatch_one` must look at, the outcomes of the rest, and the problems.

    Not due: the send time has not come, no address, unsubscribed. Already sent: a row of the
    local day that no dispatcher takes up again (sending, sent, unconfirmed, failed). The rest
    (due, or a `retry` / `claimed` / `skipped` row) go to `dispatch_one`, which decides with the
    row's claim. Problems: (athlete id, reason) of athletes whose day cannot be known (a time
    zone the installed tzdata lacks); one athlete's bad data never stops the others.
    """
    athletes = session.execute(
        select(
            Athlete.id, Athlete.timezone, Athlete.send_time, Athlete.email, Athlete.email_enabled
        ).order_by(Athlete.id)
    ).all()
    days: dict[int, date] = {}
    settled: list[Outcome] = []
    problems: list[tuple[int, str]] = []
    for athlete_id, timezone, send_time, email, enabled in athletes:
        if not email or not enabled:
            settled.append(Outcome.NOT_DUE)
            continue
        try:
            day = local_today(timezone, now)
            due = now >= local_moment(day, send_time, timezone)
        except Exception as exc:  # noqa: BLE001 - ZoneInfoNotFoundError, a bad key: this athlete's
            problems.append((athlete_id, _day_problem(timezone, exc)))
            continue
        if due:
            days[athlete_id] = day
        else:
            settled.append(Outcome.NOT_DUE)
    final = set()
    if days:
        final = set(
            session.execute(
                select(EmailDelivery.athlete_id, EmailDelivery.date).where(
                    EmailDelivery.athlete_id.in_(list(days)),
                    EmailDelivery.date.in_(set(days.values())),
                    EmailDelivery.status.in_(SETTLED_STATUSES),
                )
            ).all()
        )
    ids = []
    for athlete_id, day in days.items():
        if (athlete_id, day) in final:
            settled.append(Outcome.ALREADY)
        else:
            ids.append(athlete_id)
    return ids, settled, problems


def _day_problem(timezone: str, exc: Exception) -> str:
    if isinstance(exc, ZoneInfoNotFoundError):
        return f"time zone {timezone!r} is not in this machine's tzdata: no email until it is fixed"
    return f"cannot place the send time in time zone {timezone!r} ({type(exc).__name__}): no email"


def _skip(settings: Settings, athlete_id: int, now: datetime, problem: str) -> Outcome:
    """Record (once per UTC day) that the athlete's email cannot be placed; log it that once.

    The row is dated by UTC, the athlete's own date being unknown; it is `skipped`, so if the
    problem is fixed the same day the email still goes out (`claims.claim` takes the row over).
    """
    day = now.astimezone(UTC).date()
    try:
        with session_scope(settings) as session:
            exists = session.scalar(
                select(EmailDelivery.id).where(
                    EmailDelivery.athlete_id == athlete_id, EmailDelivery.date == day
                )
            )
            if exists is not None:
                return Outcome.NOT_DUE  # reported today already (or settled before the problem)
            session.add(
                EmailDelivery(
                    athlete_id=athlete_id,
                    date=day,
                    kind="daily",
                    status=DeliveryStatus.SKIPPED,
                    attempts=0,
                    updated_at=now,
                    error=problem[:500],
                )
            )
    except IntegrityError:
        return Outcome.NOT_DUE  # another dispatcher reported it this very moment
    log.warning("daily email of %s skipped: %s", day, problem)
    return Outcome.FAILED


def _already_told(session: Session, athlete: Athlete, day: date) -> bool:
    """Whether the re-auth email went out for the current problem (no successful sync since)."""
    told_at = session.scalar(
        select(EmailDelivery.updated_at)
        .where(
            EmailDelivery.athlete_id == athlete.id,
            EmailDelivery.kind == "reauth",
            EmailDelivery.status.in_(TOLD_STATUSES),
            EmailDelivery.date < day,
        )
        .order_by(EmailDelivery.date.desc())
        .limit(1)
    )
    if told_at is None:
        return False
    last_ok = last_successful_sync(session, athlete)
    return last_ok is None or last_ok < told_at


def _what_is_due(session: Session, athlete_id: int, now: datetime) -> tuple[date, str] | None:
    """(local date, kind) of the email due for the athlete at `now`, or None."""
    athlete = session.get(Athlete, athlete_id)
    if athlete is None:
        return None
    day = local_today(athlete.timezone, now)
    if now < local_moment(day, athlete.send_time, athlete.timezone):
        return None
    if not athlete.email or not athlete.email_enabled:
        log.info("no email address or unsubscribed: skipped")
        return None
    account = garmin_account(session, athlete)
    if account is not None and (
        account.status == AccountStatus.NEEDS_REAUTH or has_ended(account.credential_ends_at, now)
    ):
        if _already_told(session, athlete, day):
            return None  # the athlete knows; no stale verdict either
        return day, "reauth"
    return day, "daily"


def _prepare(
    settings: Settings, athlete_id: int, delivery_id: int, day: date, kind: str, now: datetime
) -> EmailMessage | None:
    """Compose the message and move the row claimed -> sending; None when the claim was lost."""
    with session_scope(settings) as session:
        athlete = session.get(Athlete, athlete_id)
        assert athlete is not None
        if kind == "reauth":
            account = session.scalar(select(GarminAccount).where(GarminAccount.athlete_id == athlete_id))
            assert account is not None
            message = reauth_message(session, athlete, account, day, now, settings)
        else:
            message = daily_message(session, athlete, day, now, settings)
        won = start_sending(
            session, Rows.email(settings), delivery_id, now, kind=kind, message_id=message["Message-ID"]
        )
        stored = verdict_of(session, athlete_id, day) if won and kind == "daily" else None
        if stored is not None:  # the email's verdict is the day's from now on (first message wins)
            announce(session, athlete_id, stored, now, via="email")
    return message if won else None


def dispatch_one(
    athlete_id: int, now: datetime, settings: Settings, sender: Sender, *, prepare: Prepare | None = None
) -> Outcome:
    """Send one athlete's due email, if any; see the module docstring for the states.

    `prepare(athlete_id, day, settings)`, when given, runs once the row is claimed, before a
    daily email is composed (its database failures defer the email like the compose's own):
    the glue that sends (the worker's task, the CLI) passes the verdicts package's
    `ensure_morning_verdict_of`, so the morning verdict is computed first and the email only
    reads it. Without it, a day with no stored verdict is deferred (`NoVerdictYet`).
    """
    with session_scope(settings) as session:
        due = _what_is_due(session, athlete_id, now)
    if due is None:
        return Outcome.NOT_DUE
    day, kind = due
    rows = Rows.email(settings)
    claimed = claim(settings, rows, {"athlete_id": athlete_id, "date": day}, now, kind=kind)
    if isinstance(claimed, Outcome):
        return claimed
    try:
        if prepare is not None and kind == "daily":  # after the claim: once per email, not per tick
            prepare(athlete_id, day, settings)
        message = _prepare(settings, athlete_id, claimed, day, kind, now)
    except Exception as exc:  # noqa: BLE001 - a bad verdict must not stop the other athletes
        if isinstance(exc, NoVerdictYet) or transient.is_transient(exc):
            # A database blip (a restart, terminated backends, a locked SQLite file), or a
            # verdict not computed yet, says nothing about this email: deferred, never given up.
            late = isinstance(exc, NoVerdictYet)
            why = str(exc) if late else f"the database failed ({transient.reason(exc)})"
            error = f"compose: {why}; retried later"
            log.warning("composing the %s email of %s: %s", kind, day, error)
            if not release(settings, rows, claimed, now, error):
                log.error("the row stays claimed; it is taken over after the claim timeout")
            return Outcome.FAILED
        log.exception("composing the %s email of %s failed", kind, day)
        record(
            settings,
            rows,
            claimed,
            now,
            status=DeliveryStatus.FAILED,
            error=f"compose: {type(exc).__name__}: {exc}"[:500],
        )
        return Outcome.FAILED
    if message is None:
        return Outcome.ALREADY
    try:
        note = sender.send(message)
    except DeliveryUnknown as exc:
        log.warning("email of %s unconfirmed, not sent again: %s", day, exc)
        record(
            settings,
            rows,
            claimed,
            now,
            status=DeliveryStatus.UNCONFIRMED,
            sent_at=now,
            next_attempt_at=None,
            error=str(exc)[:500],
        )
        return Outcome.UNCONFIRMED
    except PermanentError as exc:
        log.warning("email of %s refused for good: %s", day, exc)
        record(settings, rows, claimed, now, status=DeliveryStatus.FAILED, error=str(exc)[:500])
        return Outcome.FAILED
    except Exception as exc:  # noqa: BLE001 - TransientError, or a sender's own bug (an OSError...)
        if not isinstance(exc, TransientError):
            # Not the sender's contract, so not SMTP's: SmtpSender turns everything after the
            # message's end into DeliveryUnknown. Retried like a transient failure, counted.
            log.exception("sending the email of %s raised unexpectedly", day)
            exc = TransientError(f"sender: {type(exc).__name__}: {exc}")
        defer_or_fail(settings, rows, claimed, now, f"email of {day}", exc)
        return Outcome.FAILED
    sent = {"status": DeliveryStatus.SENT, "sent_at": now, "next_attempt_at": None, "error": note}
    if not record(settings, rows, claimed, now, **sent):
        log.error("%s email of %s sent, but the row stays `sending` (never sent again)", kind, day)
    log.info("%s email of %s sent%s", kind, day, f" ({note})" if note else "")
    return Outcome.SENT
