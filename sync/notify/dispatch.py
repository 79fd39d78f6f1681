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
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfoNotFoundError

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sync.config import Settings, get_settings
from sync.credential_end import has_ended
from sync.db import transient
from sync.db.claim import PAGE
from sync.db.models import Athlete, EmailDelivery, GarminAccount
from sync.db.session import session_scope
from sync.db.statuses import AccountStatus, DeliveryStatus
from sync.errors import DeliveryUnknown, PermanentError, TransientError
from sync.logging import log_context
from sync.notify.claims import (
    Outcome,
    Rows,
    claim,
    defer_or_fail,
    record,
    release,
    start_sending,
)
from sync.notify.compose import NoVerdictYet, daily_message, reauth_message
from sync.notify.mornings import claim_due_mornings, next_morning_at
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
PROBLEM_RETRY = timedelta(hours=1)  # an athlete whose day cannot be placed is looked at again

__all__ = ["DispatchSummary", "Outcome", "dispatch_due_emails", "send_due_email"]


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

    Only the athletes whose `next_send_at` has come are looked at (indexed, a page at a time,
    each page claimed for `email_claim_timeout_s` so two dispatchers never take the same
    athlete: sync/notify/mornings.py), so a tick costs the emails due, not the fleet, and no
    statement carries more than a page of parameters. `send_due_email` stores each athlete's next
    moment once it is done.

    `hand_off(athlete_id, now)`, when given, takes each due athlete instead of sending here (the
    worker queues one `send_due_email` task each, so a fleet's morning is sent by every worker at
    once); they are counted as `queued`. Exactly once is unchanged: whoever runs `send_due_email`
    claims the delivery row first. `prepare` is passed on to `send_due_email` (see there).
    """
    settings = settings or get_settings()
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("dispatch_due_emails needs an aware datetime")
    summary = DispatchSummary()
    own_sender = sender
    while True:
        with session_scope(settings) as session:
            due, problems, not_due, full = _claim_page(session, now, settings)
        summary.not_due += not_due
        for athlete_id, problem in problems:
            with log_context(athlete_id=athlete_id):
                summary.add(_skip(settings, athlete_id, now, problem))
        for athlete_id in due:
            if hand_off is not None:
                hand_off(athlete_id, now)
                summary.queued += 1
                continue
            with log_context(athlete_id=athlete_id):
                own_sender = own_sender or sender_from_settings(settings)
                summary.add(_dispatch_here(athlete_id, now, settings, own_sender, prepare))
        if not full:
            return summary


def _claim_page(
    session: Session, now: datetime, settings: Settings
) -> tuple[list[int], list[tuple[int, str]], int, bool]:
    """Claim a page of athletes whose moment came; (due ids, problems, not due, page was full).

    Answered here, cheaply, in the claim's transaction: those whose send time has not come
    (a new athlete, a send time moved later) get that moment; those with no address or
    unsubscribed get tomorrow's; those whose time zone this machine lacks are problems (reported
    once per UTC day, looked at again an hour later, so a fix is seen the same day). The rest go
    to `send_due_email`.
    """
    page = claim_due_mornings(
        session,
        Athlete.next_send_at,
        now,
        settings.email_claim_timeout_s,
        extra=(Athlete.timezone, Athlete.send_time, Athlete.email, Athlete.email_enabled),
    )
    due: list[int] = []
    problems: list[tuple[int, str]] = []
    moved: list[dict[str, object]] = []
    for athlete_id, timezone, send_time, email, enabled in page:
        try:
            day = local_today(timezone, now)
            moment = local_moment(day, send_time, timezone)
        except Exception as exc:  # noqa: BLE001 - ZoneInfoNotFoundError, a bad key: this athlete's
            problems.append((athlete_id, _day_problem(timezone, exc)))
            moved.append({"id": athlete_id, "next_send_at": now + PROBLEM_RETRY})
            continue
        if now < moment:
            moved.append({"id": athlete_id, "next_send_at": moment})
        elif not email or not enabled:
            moved.append(
                {"id": athlete_id, "next_send_at": local_moment(day + timedelta(days=1), send_time, timezone)}
            )
        else:
            due.append(athlete_id)
    if moved:
        session.execute(update(Athlete), moved)  # by primary key, one executemany
    return due, problems, len(moved) - len(problems), len(page) == PAGE


def _dispatch_here(
    athlete_id: int, now: datetime, settings: Settings, sender: Sender, prepare: Prepare | None
) -> Outcome:
    """`send_due_email` in this process; whatever it raises is this athlete's failure only."""
    try:
        return send_due_email(athlete_id, now, settings, sender, prepare=prepare)
    except Exception as exc:  # noqa: BLE001 - one athlete's failure never stops the others
        # Before the claim or while recording it (the database went away): nothing was sent,
        # and the row, if any, is `claimed` and is taken over later; the athlete's hold ends
        # and the next tick after it tries again.
        if transient.is_transient(exc):
            log.warning(
                "email dispatch of this athlete stopped: the database failed (%s); a later tick tries again",
                transient.reason(exc),
            )
        else:
            log.exception("email dispatch of this athlete stopped; a later tick tries again")
        return Outcome.FAILED


def next_email_at(session: Session, athlete: Athlete, now: datetime, settings: Settings) -> datetime:
    """When the athlete's email may next be due, after a dispatch at `now`: a retry's backoff,
    an abandoned claim's timeout, else the next send moment not yet settled."""
    day = local_today(athlete.timezone, now)
    row = session.scalar(
        select(EmailDelivery).where(EmailDelivery.athlete_id == athlete.id, EmailDelivery.date == day)
    )
    if row is not None and row.status == DeliveryStatus.RETRY:
        return row.next_attempt_at or now
    if row is not None and row.status == DeliveryStatus.CLAIMED:
        return row.updated_at + timedelta(seconds=settings.email_claim_timeout_s)
    # No row: not due yet (or nothing to send today: no address, the re-auth notice told).
    due_today = now >= local_moment(day, athlete.send_time, athlete.timezone)
    return next_morning_at(
        athlete.timezone, athlete.send_time, now, today_settled=due_today or row is not None
    )


def _reschedule(settings: Settings, athlete_id: int, now: datetime) -> None:
    """Store the athlete's next email moment after `send_due_email` returned (not after it raised:
    then the claim's hold runs out and a later tick looks again)."""
    try:
        with session_scope(settings) as session:
            athlete = session.get(Athlete, athlete_id)
            if athlete is not None:
                athlete.next_send_at = next_email_at(session, athlete, now, settings)
    except Exception as exc:  # noqa: BLE001 - the hold runs out: looked at again, never lost
        log.warning(
            "next email moment not stored (%s); the athlete is looked at again soon", type(exc).__name__
        )


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


def send_due_email(
    athlete_id: int, now: datetime, settings: Settings, sender: Sender, *, prepare: Prepare | None = None
) -> Outcome:
    """Send one athlete's due email, if any, then store when the next one may be due
    (`athlete.next_send_at`); see the module docstring for the states and `_send_one`."""
    outcome = _send_one(athlete_id, now, settings, sender, prepare=prepare)
    _reschedule(settings, athlete_id, now)
    return outcome


def _send_one(
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
