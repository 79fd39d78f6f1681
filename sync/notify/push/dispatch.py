"""Push messages per channel: the morning one at the athlete's send time, at most one update.

For each active channel of an athlete and each local date:

- **morning**: once the send time has come, the day's verdict (flag, the deciding reason, the
  caps, the report link). It is the day's verdict from then on (`sync.verdicts.announced`).
- **update**: at most one, only when a later verdict of the day (a late sync, a check-in) says
  another flag than the channel's morning message did.
- **paused**: the email telling the athlete that a channel failed on
  LEGDAY_PUSH_PAUSE_AFTER_DAYS days in a row and was paused.

Each is one `channel_delivery` row of (channel, date, kind), claimed before anything is sent by
the same machinery as the email (sync/notify/claims.py): a doubled beat tick, two workers or a
worker killed mid-send never send a message twice. A permanent refusal (a 4xx) is recorded
with its reason and not retried; a transient one (5xx, timeout) is retried after a doubling
backoff. URLs are decrypted only inside `_compose`, never logged and never passed to a task.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update

from sync.config import Settings, get_settings
from sync.db import transient
from sync.db.claim import PAGE
from sync.db.models import Athlete, ChannelDelivery, NotifyChannel
from sync.db.session import rows_matched, session_scope
from sync.db.statuses import ChannelStatus, DeliveryStatus
from sync.errors import ConfigError, DeliveryUnknown, PermanentError, TransientError
from sync.links.build import report_link
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
from sync.notify.message import stable_message_id
from sync.notify.push import transport
from sync.notify.push.channels import channel_url
from sync.notify.push.due import MessageKind, claim_due_channels, reschedule, update_due
from sync.notify.senders import Sender, sender_from_settings
from sync.readiness.display import channel_paused_notice, push_morning, push_update
from sync.scheduling import local_moment, local_today
from sync.verdicts.announced import announce
from sync.verdicts.read import verdict_of

log = logging.getLogger(__name__)

__all__ = ["MessageKind", "PushSummary", "dispatch_due_pushes", "push_one"]

# Runs once before the first morning message of (athlete id, day) is composed: the glue passes
# `sync.verdicts.policy.ensure_morning_verdict_of`, so the morning verdict is computed first.
Prepare = Callable[[int, date, Settings], object]


class NoVerdictYet(TransientError):
    """No verdict stored for the day yet: the message waits for it (never sent empty)."""


@dataclass
class PushSummary:
    """Counts of one push round (messages, not athletes)."""

    sent: int = 0
    already_sent: int = 0
    not_due: int = 0
    failed: int = 0
    unconfirmed: int = 0
    queued: int = 0  # athletes handed off to per-athlete tasks
    paused: int = 0

    def add(self, outcome: Outcome) -> None:
        """Count one message's outcome."""
        name = outcome.value.replace(" ", "_")
        setattr(self, name, getattr(self, name) + 1)

    def merge(self, other: PushSummary) -> None:
        """Add another summary's counts."""
        for name, value in vars(other).items():
            setattr(self, name, getattr(self, name) + value)

    def line(self) -> str:
        """`sent N, already sent M, failed F, paused P`."""
        return (
            f"sent {self.sent}, already sent {self.already_sent}, failed {self.failed}, paused {self.paused}"
        )


def dispatch_due_pushes(
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
    hand_off: Callable[[int, datetime], None] | None = None,
    prepare: Prepare | None = None,
) -> PushSummary:
    """Send every push message due at `now` (default: the clock) and not yet claimed.

    Only the channels whose `next_push_at` has come are looked at, a page at a time, each held
    so two dispatchers never take the same one (sync/notify/push/due.py): a tick costs the
    channels due, not the fleet. Each due channel's athlete is handled once (`push_one`, which
    stores the channels' next moments).

    `hand_off(athlete_id, now)`, when given, takes each due athlete instead (the worker queues
    one task each, carrying ids only); they are counted as `queued`. Exactly once is unchanged:
    whoever runs `push_one` claims each message's row first.
    """
    settings = settings or get_settings()
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("dispatch_due_pushes needs an aware datetime")
    summary = PushSummary()
    handled: set[int] = set()  # an athlete whose channels fall on two pages is handled once
    while True:
        with session_scope(settings) as session:
            page = claim_due_channels(session, now, settings)
        for athlete_id in sorted({athlete_id for _, athlete_id in page} - handled):
            handled.add(athlete_id)
            if hand_off is not None:
                hand_off(athlete_id, now)
                summary.queued += 1
            else:
                summary.merge(push_one(athlete_id, now, settings, prepare=prepare))
        if len(page) < PAGE:
            return summary


def push_one(
    athlete_id: int, now: datetime, settings: Settings, *, prepare: Prepare | None = None
) -> PushSummary:
    """Send the athlete's due push messages (each channel's morning one, then its update if the
    flag changed since); one channel's failure never stops the others."""
    try:
        return _push_one(athlete_id, now, settings, prepare)
    finally:
        _reschedule(settings, athlete_id, now)


def _reschedule(settings: Settings, athlete_id: int, now: datetime) -> None:
    """Store the next moment of the athlete's channels (after `push_one`, even when it raised:
    a hold that simply ran out would look again only after the claim timeout)."""
    try:
        with session_scope(settings) as session:
            reschedule(session, athlete_id, now, settings)
    except Exception as exc:  # noqa: BLE001 - the hold runs out: looked at again, never lost
        log.warning("next push moments not stored (%s); looked at again soon", type(exc).__name__)


def _push_one(athlete_id: int, now: datetime, settings: Settings, prepare: Prepare | None) -> PushSummary:
    summary = PushSummary()
    with log_context(athlete_id=athlete_id):
        with session_scope(settings) as session:
            athlete = session.get(Athlete, athlete_id)
            if athlete is None:
                return summary
            try:
                day = local_today(athlete.timezone, now)
                due = now >= local_moment(day, athlete.send_time, athlete.timezone)
            except Exception:  # noqa: BLE001 - an unknown time zone: the email reports it
                due = False
            if not due:
                summary.add(Outcome.NOT_DUE)
                return summary
            channels = list(
                session.scalars(
                    select(NotifyChannel.id)
                    .where(
                        NotifyChannel.athlete_id == athlete_id,
                        NotifyChannel.status == ChannelStatus.ACTIVE,
                    )
                    .order_by(NotifyChannel.id)
                )
            )
        prepared: list[bool] = []

        def prepare_once() -> None:
            if prepare is not None and not prepared:
                prepare(athlete_id, day, settings)
                prepared.append(True)

        for channel_id in channels:
            with log_context(channel_id=channel_id):
                for kind in (MessageKind.MORNING, MessageKind.UPDATE):
                    try:
                        outcome = _deliver(settings, athlete_id, channel_id, day, kind, now, prepare_once)
                    except Exception as exc:  # noqa: BLE001 - this channel only; the next tick tries again
                        why = transient.reason(exc) if transient.is_transient(exc) else type(exc).__name__
                        log.warning("push %s of %s stopped (%s); the next tick tries again", kind, day, why)
                        outcome = Outcome.FAILED
                    summary.add(outcome)
                    if outcome == Outcome.FAILED and kind == MessageKind.MORNING:
                        summary.paused += _pause_if_failing(settings, athlete_id, channel_id, day, now)
                        break
    return summary


def _deliver(
    settings: Settings,
    athlete_id: int,
    channel_id: int,
    day: date,
    kind: MessageKind,
    now: datetime,
    prepare_once: Callable[[], None],
) -> Outcome:
    """One message of `kind` to one channel, at most once (the row's claim decides)."""
    rows = Rows.push(settings)
    if kind == MessageKind.UPDATE:
        with session_scope(settings) as session:
            if not update_due(session, athlete_id, channel_id, day):
                return Outcome.NOT_DUE
    key = {"channel_id": channel_id, "date": day, "kind": kind}
    claimed = claim(settings, rows, key, now, athlete_id=athlete_id)
    if isinstance(claimed, Outcome):
        return claimed
    what = f"push {kind} of {day}"
    try:
        if kind == MessageKind.MORNING:
            prepare_once()  # after the claim: once per message, not per tick
        composed = _compose(settings, rows, claimed, athlete_id, channel_id, day, kind, now)
    except Exception as exc:  # noqa: BLE001 - a bad verdict must not stop the other channels
        if isinstance(exc, NoVerdictYet) or transient.is_transient(exc):
            late = isinstance(exc, NoVerdictYet)
            why = str(exc) if late else f"the database failed ({transient.reason(exc)})"
            log.warning("composing the %s: %s; retried later", what, why)
            release(settings, rows, claimed, now, f"compose: {why}; retried later")
            return Outcome.FAILED
        log.exception("composing the %s failed", what)
        error = f"compose: {type(exc).__name__}"
        record(settings, rows, claimed, now, status=DeliveryStatus.FAILED, error=error)
        return Outcome.FAILED
    if composed is None:
        return Outcome.ALREADY
    url, title, body = composed
    try:
        transport.send(url, title, body, timeout_s=settings.push_timeout_s)
    except PermanentError as exc:
        log.warning("%s refused for good: %s", what, exc)
        record(settings, rows, claimed, now, status=DeliveryStatus.FAILED, error=str(exc)[:500])
        return Outcome.FAILED
    except Exception as exc:  # noqa: BLE001 - TransientError, or the transport's own bug
        if not isinstance(exc, TransientError):
            exc = TransientError(f"push: {type(exc).__name__}")
        defer_or_fail(settings, rows, claimed, now, what, exc)  # retry, or failed when out of attempts
        return Outcome.FAILED
    sent = {"status": DeliveryStatus.SENT, "sent_at": now, "next_attempt_at": None}
    if not record(settings, rows, claimed, now, **sent):
        log.error("%s sent, but the row stays `sending` (never sent again)", what)
    log.info("%s sent", what)
    return Outcome.SENT


def _compose(
    settings: Settings,
    rows: Rows,
    delivery_id: int,
    athlete_id: int,
    channel_id: int,
    day: date,
    kind: MessageKind,
    now: datetime,
) -> tuple[str, str, str] | None:
    """(url, title, body), with the row moved claimed -> sending (and the morning verdict kept
    as the day's) in one transaction; None when the claim was lost or nothing is to be said."""
    with session_scope(settings) as session:
        athlete = session.get(Athlete, athlete_id)
        channel = session.get(NotifyChannel, channel_id)
        assert athlete is not None and channel is not None
        stored = verdict_of(session, athlete_id, day)
        if stored is None:
            raise NoVerdictYet(f"no verdict stored for {day} yet")
        link = _report_link(athlete, day, settings)
        if kind == MessageKind.MORNING:
            title, body = push_morning(stored.verdict, link)
        else:
            told = session.scalar(
                select(ChannelDelivery.flag).where(
                    ChannelDelivery.channel_id == channel_id,
                    ChannelDelivery.date == day,
                    ChannelDelivery.kind == MessageKind.MORNING,
                )
            )
            if told is None or told == str(stored.flag):  # changed back meanwhile: nothing to say
                session.execute(delete(ChannelDelivery).where(ChannelDelivery.id == delivery_id))
                return None
            at = stored.computed_at.astimezone(ZoneInfo(athlete.timezone)).strftime("%H:%M")
            title, body = push_update(told, stored.verdict, at, link)
        if not start_sending(session, rows, delivery_id, now, flag=str(stored.flag)):
            return None
        if kind == MessageKind.MORNING:
            announce(session, athlete_id, stored, now, via="push")
        url = channel_url(settings, channel)
    return url, title, body


def _report_link(athlete: Athlete, day: date, settings: Settings) -> str | None:
    try:
        return report_link(athlete, day=day, settings=settings)
    except ConfigError:
        return None  # no signing secret: the message goes without its link


def _pause_if_failing(settings: Settings, athlete_id: int, channel_id: int, day: date, now: datetime) -> int:
    """Pause the channel when its morning message failed on each of the last N days (N =
    LEGDAY_PUSH_PAUSE_AFTER_DAYS), and email the athlete once; 1 when this call paused it."""
    days = settings.push_pause_after_days
    with session_scope(settings) as session:
        failed = set(
            session.scalars(
                select(ChannelDelivery.date).where(
                    ChannelDelivery.channel_id == channel_id,
                    ChannelDelivery.kind == MessageKind.MORNING,
                    ChannelDelivery.status == DeliveryStatus.FAILED,
                    ChannelDelivery.date > day - timedelta(days=days),
                    ChannelDelivery.date <= day,
                )
            )
        )
        if failed != {day - timedelta(days=k) for k in range(days)}:
            return 0
        reason = session.scalar(
            select(ChannelDelivery.error).where(
                ChannelDelivery.channel_id == channel_id,
                ChannelDelivery.date == day,
                ChannelDelivery.kind == MessageKind.MORNING,
            )
        )
        won = rows_matched(
            session.execute(
                update(NotifyChannel)
                .where(NotifyChannel.id == channel_id, NotifyChannel.status == ChannelStatus.ACTIVE)
                .values(
                    status=ChannelStatus.PAUSED,
                    paused_at=now,
                    next_push_at=None,  # never due while paused
                    status_reason=f"failed on {days} days in a row (last: {reason or 'unknown'})"[:500],
                )
            )
        )
    if won != 1:
        return 0
    log.warning("push channel paused after %d failing days", days)
    tell_paused(settings, athlete_id, channel_id, day, now)
    return 1


def tell_paused(
    settings: Settings,
    athlete_id: int,
    channel_id: int,
    day: date,
    now: datetime,
    sender: Sender | None = None,
) -> Outcome:
    """Email the athlete that the channel was paused, at most once (its own delivery row)."""
    rows = Rows.push(settings)
    key = {"channel_id": channel_id, "date": day, "kind": MessageKind.PAUSED}
    claimed = claim(settings, rows, key, now, athlete_id=athlete_id)
    if isinstance(claimed, Outcome):
        return claimed
    with session_scope(settings) as session:
        athlete = session.get(Athlete, athlete_id)
        channel = session.get(NotifyChannel, channel_id)
        assert athlete is not None and channel is not None
        if not athlete.email:
            record(settings, rows, claimed, now, status=DeliveryStatus.FAILED, error="no email address")
            return Outcome.FAILED
        shown = transport.redacted(channel_url(settings, channel))
        subject, text = channel_paused_notice(shown, settings.push_pause_after_days, channel.status_reason)
        message = EmailMessage()
        message["From"] = settings.mail_from
        message["To"] = athlete.email
        message["Subject"] = subject
        message["Date"] = format_datetime(now)
        message["Message-ID"] = stable_message_id(athlete_id, day, f"paused{channel_id}", settings.mail_from)
        message.set_content(text.replace("NAME ID", f"{athlete.name} {channel_id}"))
        if not start_sending(session, rows, claimed, now):
            return Outcome.ALREADY
    try:
        (sender or sender_from_settings(settings)).send(message)
    except DeliveryUnknown as exc:
        unsure = {"status": DeliveryStatus.UNCONFIRMED, "sent_at": now, "error": str(exc)[:500]}
        record(settings, rows, claimed, now, **unsure)
        return Outcome.UNCONFIRMED
    except PermanentError as exc:
        record(settings, rows, claimed, now, status=DeliveryStatus.FAILED, error=str(exc)[:500])
        return Outcome.FAILED
    except Exception as exc:  # noqa: BLE001 - TransientError or a sender's bug: retried by the next round
        exc = exc if isinstance(exc, TransientError) else TransientError(f"sender: {type(exc).__name__}")
        defer_or_fail(settings, rows, claimed, now, f"channel-paused email of {day}", exc)
        return Outcome.FAILED
    record(settings, rows, claimed, now, status=DeliveryStatus.SENT, sent_at=now)
    return Outcome.SENT
