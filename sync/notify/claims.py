"""The exactly-once claim of a delivery row, shared by the email and the push channels.

A message (the daily email; a push message of one kind to one channel) has a delivery row whose
unique key names it. The row is inserted, `claimed`, and committed before anything is sent: the
unique constraint decides which dispatcher sends. Then

    claimed -> sending (committed before the send) -> sent
                                                   -> unconfirmed (out, no answer: never again)
                                                   -> retry (transient; after a doubling backoff)
                                                   -> failed (permanent, or out of attempts)
    claimed -> retry (the database failed before anything was sent)

`claimed` means no server has seen the message, so a claim abandoned for longer than the
table's claim timeout is taken over; so are `retry` rows whose time has come and `skipped`
rows. `sending` and `unconfirmed` are never taken over: the server may have the message, and a
second message is worse than a missing one (docs/email.md, docs/notifications.md).

Each state change is its own short transaction, opened here from settings: the claim must be
committed before the send, which is what makes it exactly once. Nothing here knows what is sent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sync.config import Settings
from sync.db import transient
from sync.db.models import ChannelDelivery, EmailDelivery
from sync.db.session import rows_matched, session_scope
from sync.db.statuses import DeliveryStatus

log = logging.getLogger(__name__)

# Short in-process retries of a delivery row's write after a database blip (seconds).
RECORD_RETRY_WAITS_S = (0.2, 1.0, 3.0)

# Rows no dispatcher takes up again on their day.
SETTLED_STATUSES = (
    DeliveryStatus.SENDING,
    DeliveryStatus.SENT,
    DeliveryStatus.UNCONFIRMED,
    DeliveryStatus.FAILED,
)

DeliveryModel = type[EmailDelivery] | type[ChannelDelivery]


class Outcome(StrEnum):
    """What one dispatch did for one message."""

    SENT = "sent"
    ALREADY = "already sent"
    NOT_DUE = "not due"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"  # out, no reply: maybe delivered, never sent again


@dataclass(frozen=True)
class Rows:
    """A delivery table and its timing: all the claim machinery knows of what it delivers."""

    model: DeliveryModel
    claim_timeout_s: float
    retry_backoff_s: float
    max_attempts: int

    @classmethod
    def email(cls, settings: Settings) -> Rows:
        """The daily email's rows (`email_delivery`), timed by LEGDAY_EMAIL_*."""
        return cls(
            EmailDelivery,
            settings.email_claim_timeout_s,
            settings.email_retry_backoff_s,
            settings.email_max_attempts,
        )

    @classmethod
    def push(cls, settings: Settings) -> Rows:
        """The push channels' rows (`channel_delivery`), timed by LEGDAY_PUSH_*."""
        return cls(
            ChannelDelivery,
            settings.email_claim_timeout_s,
            settings.push_retry_backoff_s,
            settings.push_max_attempts,
        )


def claim(
    settings: Settings, rows: Rows, key: Mapping[str, Any], now: datetime, **values: Any
) -> int | Outcome:
    """Insert the delivery row named by `key` (with `values`) as `claimed`, or take over a due
    retry / skipped row / abandoned claim; the row's id, or why not (ALREADY, NOT_DUE)."""
    model = rows.model
    try:
        with session_scope(settings) as session:
            row = model(**key, **values, status=DeliveryStatus.CLAIMED, attempts=0, updated_at=now)
            session.add(row)
            session.flush()
            return row.id
    except IntegrityError:
        pass  # the unique constraint decided: the row exists
    with session_scope(settings) as session:
        row = session.scalar(select(model).where(*(getattr(model, k) == v for k, v in key.items())))
        if row is None:  # deleted in between: next tick
            return Outcome.NOT_DUE
        abandoned = now - timedelta(seconds=rows.claim_timeout_s)
        waiting = row.next_attempt_at is not None and row.next_attempt_at > now
        if row.status == DeliveryStatus.RETRY and waiting:
            return Outcome.NOT_DUE
        takeover = row.status in (DeliveryStatus.RETRY, DeliveryStatus.SKIPPED) or (
            row.status == DeliveryStatus.CLAIMED and row.updated_at <= abandoned
        )
        if not takeover:
            return Outcome.ALREADY
        won = rows_matched(session.execute(
            update(model)
            .where(
                model.id == row.id,
                model.status == row.status,
                model.attempts == row.attempts,
                model.updated_at == row.updated_at,
            )
            .values(status=DeliveryStatus.CLAIMED, updated_at=now)
        ))
        return row.id if won == 1 else Outcome.ALREADY


def start_sending(session: Session, rows: Rows, delivery_id: int, now: datetime, **values: Any) -> bool:
    """Move our claim to `sending` (one more attempt) in the caller's transaction, which must
    commit before the send; False when the claim was lost (taken over by another dispatcher)."""
    model = rows.model
    won = rows_matched(session.execute(
        update(model)
        .where(model.id == delivery_id, model.status == DeliveryStatus.CLAIMED, model.updated_at == now)
        .values(
            status=DeliveryStatus.SENDING, attempts=model.attempts + 1, updated_at=now, error=None, **values
        )
    ))
    return won == 1


def with_db_retries(write: Callable[[], Any]) -> Any:
    """Run `write` (one transaction); again after a short wait if the database blipped.

    For the row's own writes around sending: a blip there must not leave a row `sending` when
    its outcome is known. None when it kept failing: the caller logs what stays on the row.
    """
    for wait in (*RECORD_RETRY_WAITS_S, None):
        try:
            return write()
        except Exception as exc:
            if not transient.is_transient(exc):
                raise
            if wait is None:
                log.error("could not write the delivery row: %s", transient.reason(exc))
                return None
            time.sleep(wait)
    return None


def record(settings: Settings, rows: Rows, delivery_id: int, now: datetime, **values: Any) -> bool:
    """Write the row's new state (retried through a database blip); False when it could not."""
    model = rows.model

    def write() -> int:
        with session_scope(settings) as session:
            return rows_matched(session.execute(
                update(model).where(model.id == delivery_id).values(updated_at=now, **values)
            ))

    return with_db_retries(write) is not None


def release(settings: Settings, rows: Rows, delivery_id: int, now: datetime, error: str) -> bool:
    """Give a claim back as `retry` after the database failed while composing: nothing was sent.

    Only while the row is still ours (claimed at `now`, or moved to `sending` by a commit whose
    answer was lost); a later tick takes it up after the backoff. Not an attempt: the database
    failed, not the delivery.
    """
    model = rows.model

    def write() -> int:
        with session_scope(settings) as session:
            return rows_matched(session.execute(
                update(model)
                .where(
                    model.id == delivery_id,
                    model.status.in_((DeliveryStatus.CLAIMED, DeliveryStatus.SENDING)),
                    model.updated_at == now,
                )
                .values(
                    status=DeliveryStatus.RETRY,
                    error=error[:500],
                    next_attempt_at=now + timedelta(seconds=rows.retry_backoff_s),
                )
            ))

    return with_db_retries(write) is not None


def defer_or_fail(
    settings: Settings, rows: Rows, delivery_id: int, now: datetime, what: str, exc: Exception
) -> DeliveryStatus | None:
    """After a transient failure: `retry` after a doubling backoff, or `failed` after the last
    attempt; the status written (None when the row could not be read: it stays `sending`).
    `what` names the message in the log ("email of 2026-03-10"); `exc`'s text is never a secret."""
    model = rows.model

    def read() -> int:
        with session_scope(settings) as session:
            return session.get(model, delivery_id).attempts  # type: ignore[union-attr]

    attempts = with_db_retries(read)
    if attempts is None:
        log.error("%s not sent (%s); the row stays `sending`", what, exc)
        return None
    if attempts >= rows.max_attempts:
        log.warning("%s failed %d times, giving up: %s", what, attempts, exc)
        record(settings, rows, delivery_id, now, status=DeliveryStatus.FAILED, error=str(exc)[:500])
        return DeliveryStatus.FAILED
    wait = rows.retry_backoff_s * 2 ** (attempts - 1)
    log.warning("%s deferred (attempt %d), retry in %.0f s: %s", what, attempts, wait, exc)
    record(
        settings,
        rows,
        delivery_id,
        now,
        status=DeliveryStatus.RETRY,
        error=str(exc)[:500],
        next_attempt_at=now + timedelta(seconds=wait),
    )
    return DeliveryStatus.RETRY
