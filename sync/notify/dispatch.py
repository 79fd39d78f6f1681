"""`dispatch_due_emails(now)`: each athlete's daily email, at their local send time, at most once.

The `email_delivery` row of (athlete, local date) is inserted before anything is sent; its
unique constraint decides which dispatcher sends. A row moves through:

    claimed -> sending -> sent
                       -> retry (transient failure; taken up again after a backoff) -> ...
                       -> failed (permanent failure, or too many attempts)

`claimed` means no SMTP server has seen the message yet, so a claim abandoned for longer than
LEGDAY_EMAIL_CLAIM_TIMEOUT_S is taken over. `sending` is never taken over: the worker may have
died after the server accepted the message, and a second email is worse than a missing one.
docs/email.md explains the reasoning.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sync.config import Settings, get_settings
from sync.credential_end import has_ended
from sync.db.models import Athlete, EmailDelivery, GarminAccount
from sync.db.session import session_scope
from sync.errors import PermanentError, TransientError
from sync.logging import log_context
from sync.notify.compose import daily_message, reauth_message
from sync.notify.notices import garmin_account, last_successful_sync
from sync.notify.senders import Sender, sender_from_settings
from sync.scheduling import local_moment, local_today

log = logging.getLogger(__name__)

TOLD_STATUSES = ("claimed", "sending", "sent", "retry")


class Outcome(StrEnum):
    """What one dispatch did for one athlete."""

    SENT = "sent"
    ALREADY = "already sent"
    NOT_DUE = "not due"
    FAILED = "failed"


@dataclass
class DispatchSummary:
    """Counts of one dispatch run."""

    sent: int = 0
    already_sent: int = 0
    not_due: int = 0
    queued: int = 0  # handed off to per-athlete tasks (the worker's fan-out)
    failed: int = 0

    def add(self, outcome: Outcome) -> None:
        """Count one athlete's outcome."""
        field = {"sent": "sent", "already sent": "already_sent", "not due": "not_due", "failed": "failed"}
        name = field[outcome.value]
        setattr(self, name, getattr(self, name) + 1)

    def line(self) -> str:
        """`sent N, already sent M, not due K, failed F`."""
        return (
            f"sent {self.sent}, already sent {self.already_sent}, "
            f"not due {self.not_due}, failed {self.failed}"
        )


def dispatch_due_emails(
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
    sender: Sender | None = None,
    hand_off: Callable[[int, datetime], None] | None = None,
) -> DispatchSummary:
    """Send every email that is due at `now` (default: the clock) and not yet claimed.

    `hand_off(athlete_id, now)`, when given, takes each athlete that may be due instead of
    sending here (the worker queues one `dispatch_one` task each, so a fleet's morning is sent
    by every worker at once); they are counted as `queued`. Exactly once is unchanged: whoever
    runs `dispatch_one` claims the delivery row first. Athletes whose send time has not come,
    who have no address or whose email of the day is settled are answered here, cheaply.
    """
    settings = settings or get_settings()
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("dispatch_due_emails needs an aware datetime")
    summary = DispatchSummary()
    with session_scope(settings) as session:
        ids, settled = _candidates(session, now)
    summary.not_due += settled.count(Outcome.NOT_DUE)
    summary.already_sent += settled.count(Outcome.ALREADY)
    if hand_off is not None:
        for athlete_id in ids:
            hand_off(athlete_id, now)
        summary.queued = len(ids)
        return summary
    sender = sender or sender_from_settings(settings)
    for athlete_id in ids:
        with log_context(athlete_id=athlete_id):
            summary.add(dispatch_one(athlete_id, now, settings, sender))
    return summary


def _candidates(session: Session, now: datetime) -> tuple[list[int], list[Outcome]]:
    """The athletes `dispatch_one` must look at, and the outcomes of the rest (two queries).

    Not due: the send time has not come, no address, unsubscribed. Already sent: a row of the
    local day that no dispatcher takes up again (sending, sent, failed). The rest (due, or a
    `retry` / `claimed` row) go to `dispatch_one`, which decides with the row's claim.
    """
    athletes = session.execute(
        select(
            Athlete.id, Athlete.timezone, Athlete.send_time, Athlete.email, Athlete.email_enabled
        ).order_by(Athlete.id)
    ).all()
    days: dict[int, date] = {}
    settled: list[Outcome] = []
    for athlete_id, timezone, send_time, email, enabled in athletes:
        day = local_today(timezone, now)
        if not email or not enabled or now < local_moment(day, send_time, timezone):
            settled.append(Outcome.NOT_DUE)
        else:
            days[athlete_id] = day
    final = set()
    if days:
        final = set(
            session.execute(
                select(EmailDelivery.athlete_id, EmailDelivery.date).where(
                    EmailDelivery.athlete_id.in_(list(days)),
                    EmailDelivery.date.in_(set(days.values())),
                    EmailDelivery.status.in_(("sending", "sent", "failed")),
                )
            ).all()
        )
    ids = []
    for athlete_id, day in days.items():
        if (athlete_id, day) in final:
            settled.append(Outcome.ALREADY)
        else:
            ids.append(athlete_id)
    return ids, settled


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
        account.status == "needs_reauth" or has_ended(account.credential_ends_at, now)
    ):
        if _already_told(session, athlete, day):
            return None  # the athlete knows; no stale verdict either
        return day, "reauth"
    return day, "daily"


def _claim(settings: Settings, athlete_id: int, day: date, kind: str, now: datetime) -> int | Outcome:
    """Insert the delivery row (or take over a due retry / abandoned claim); its id, or why not."""
    try:
        with session_scope(settings) as session:
            row = EmailDelivery(
                athlete_id=athlete_id, date=day, kind=kind, status="claimed", attempts=0, updated_at=now
            )
            session.add(row)
            session.flush()
            return row.id
    except IntegrityError:
        pass  # the unique constraint decided: the row exists
    with session_scope(settings) as session:
        row = session.scalar(
            select(EmailDelivery).where(EmailDelivery.athlete_id == athlete_id, EmailDelivery.date == day)
        )
        if row is None:  # deleted in between: next tick
            return Outcome.NOT_DUE
        abandoned = now - timedelta(seconds=settings.email_claim_timeout_s)
        if row.status == "retry" and row.next_attempt_at is not None and row.next_attempt_at > now:
            return Outcome.NOT_DUE
        takeover = (row.status == "retry") or (row.status == "claimed" and row.updated_at <= abandoned)
        if not takeover:
            return Outcome.ALREADY
        won = session.execute(
            update(EmailDelivery)
            .where(
                EmailDelivery.id == row.id,
                EmailDelivery.status == row.status,
                EmailDelivery.attempts == row.attempts,
                EmailDelivery.updated_at == row.updated_at,
            )
            .values(status="claimed", updated_at=now)
        ).rowcount
        return row.id if won == 1 else Outcome.ALREADY


def _record(settings: Settings, delivery_id: int, now: datetime, **values: object) -> None:
    with session_scope(settings) as session:
        session.execute(
            update(EmailDelivery).where(EmailDelivery.id == delivery_id).values(updated_at=now, **values)
        )


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
        won = session.execute(
            update(EmailDelivery)
            .where(
                EmailDelivery.id == delivery_id,
                EmailDelivery.status == "claimed",
                EmailDelivery.updated_at == now,
            )
            .values(
                status="sending",
                kind=kind,
                attempts=EmailDelivery.attempts + 1,
                message_id=message["Message-ID"],
                updated_at=now,
                error=None,
            )
        ).rowcount
    return message if won == 1 else None


def dispatch_one(athlete_id: int, now: datetime, settings: Settings, sender: Sender) -> Outcome:
    """Send one athlete's due email, if any; see the module docstring for the states."""
    with session_scope(settings) as session:
        due = _what_is_due(session, athlete_id, now)
    if due is None:
        return Outcome.NOT_DUE
    day, kind = due
    claimed = _claim(settings, athlete_id, day, kind, now)
    if isinstance(claimed, Outcome):
        return claimed
    try:
        message = _prepare(settings, athlete_id, claimed, day, kind, now)
    except Exception as exc:  # noqa: BLE001 - a bad verdict must not stop the other athletes
        log.exception("composing the %s email of %s failed", kind, day)
        _record(settings, claimed, now, status="failed", error=f"compose: {type(exc).__name__}: {exc}"[:500])
        return Outcome.FAILED
    if message is None:
        return Outcome.ALREADY
    try:
        sender.send(message)
    except TransientError as exc:
        with session_scope(settings) as session:
            attempts = session.get(EmailDelivery, claimed).attempts  # type: ignore[union-attr]
        if attempts >= settings.email_max_attempts:
            log.warning("email of %s failed %d times, giving up: %s", day, attempts, exc)
            _record(settings, claimed, now, status="failed", error=str(exc)[:500])
        else:
            wait = settings.email_retry_backoff_s * 2 ** (attempts - 1)
            log.warning("email of %s deferred (attempt %d), retry in %.0f s: %s", day, attempts, wait, exc)
            _record(
                settings,
                claimed,
                now,
                status="retry",
                error=str(exc)[:500],
                next_attempt_at=now + timedelta(seconds=wait),
            )
        return Outcome.FAILED
    except PermanentError as exc:
        log.warning("email of %s refused for good: %s", day, exc)
        _record(settings, claimed, now, status="failed", error=str(exc)[:500])
        return Outcome.FAILED
    _record(settings, claimed, now, status="sent", sent_at=now, next_attempt_at=None, error=None)
    log.info("%s email of %s sent", kind, day)
    return Outcome.SENT
