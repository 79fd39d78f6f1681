"""Which push channels are due: the indexed `notify_channel.next_push_at`, claimed a page at a time.

Each active channel stores the next moment it may have a message to send. A tick claims the
channels whose moment has come (`claim_due_channels`, sync/db/claim.py: each row to one
dispatcher, held meanwhile), so it costs the channels due, not the fleet. Whoever handled the
athlete then stores each channel's real next moment (`reschedule`):

- before the day's send time: that send time;
- a morning or update message waiting for a retry: the retry's moment; an abandoned claim: the
  end of its timeout;
- otherwise (the day's messages settled): the next day's send time.

Writers make a channel due at once (`DUE_AT_ONCE`) when what it would say may have changed: a
new verdict of a day whose send moment has come (`sync.verdicts.announced.wake_channels_of_day`,
called by `compute_verdict`), a new send time or time zone (`wake_athlete_channels`), a resumed
channel. `reschedule` never
overwrites `DUE_AT_ONCE`: a wake-up that lands while the athlete is being handled is seen by the
next tick. Early is harmless (the delivery rows decide, and nothing is due); late is what the
wake-ups prevent. A paused channel has no moment (NULL): never due.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from sync.config import Settings
from sync.db.claim import PAGE, claim_due
from sync.db.models import DUE_AT_ONCE, Athlete, ChannelDelivery, NotifyChannel
from sync.db.statuses import REACHED_STATUSES, ChannelStatus, DeliveryStatus
from sync.notify.mornings import next_morning_at
from sync.scheduling import local_moment, local_today
from sync.verdicts.read import verdict_of

# An athlete whose day cannot be placed (a time zone this machine lacks) is looked at again then.
PROBLEM_RETRY = timedelta(hours=1)


class MessageKind(StrEnum):
    """`channel_delivery.kind`."""

    MORNING = "morning"
    UPDATE = "update"
    PAUSED = "paused"  # the email saying a channel was paused


def update_due(session: Session, athlete_id: int, channel_id: int, day: date) -> bool:
    """Whether the channel was told a flag this morning that the day's verdict no longer says."""
    told = session.scalar(
        select(ChannelDelivery.flag).where(
            ChannelDelivery.channel_id == channel_id,
            ChannelDelivery.date == day,
            ChannelDelivery.kind == MessageKind.MORNING,
            ChannelDelivery.status.in_(REACHED_STATUSES),  # updates follow a told flag
        )
    )
    current = verdict_of(session, athlete_id, day)
    return told is not None and current is not None and str(current.flag) != told


def claim_due_channels(
    session: Session, now: datetime, settings: Settings, *, limit: int = PAGE
) -> list[tuple[int, int]]:
    """Up to `limit` (channel id, athlete id) whose moment has come, held for one claim timeout
    (the athlete's task runs meanwhile). The caller commits, then hands the athletes out."""
    hold = now + timedelta(seconds=settings.email_claim_timeout_s)
    rows = claim_due(
        session, NotifyChannel.next_push_at, now, hold, limit=limit, extra=(NotifyChannel.athlete_id,)
    )
    return [(channel_id, athlete_id) for channel_id, athlete_id in rows]


def next_push_at(
    session: Session, channel_id: int, athlete: Athlete, now: datetime, settings: Settings
) -> datetime:
    """When the channel may next have a message, after its athlete was handled at `now`."""
    try:
        day = local_today(athlete.timezone, now)
        moment = local_moment(day, athlete.send_time, athlete.timezone)
    except Exception:  # noqa: BLE001 - an unknown time zone: the email reports it; look again later
        return now + PROBLEM_RETRY
    if now < moment:
        return moment
    rows = session.execute(
        select(
            ChannelDelivery.kind,
            ChannelDelivery.status,
            ChannelDelivery.next_attempt_at,
            ChannelDelivery.updated_at,
        ).where(
            ChannelDelivery.channel_id == channel_id,
            ChannelDelivery.date == day,
            ChannelDelivery.kind.in_((MessageKind.MORNING, MessageKind.UPDATE)),
        )
    ).all()
    waiting: list[datetime] = []
    kinds = set()
    for kind, status, next_attempt_at, updated_at in rows:
        kinds.add(kind)
        # A waiting update counts only while it is still due: one whose flag changed back is
        # never taken up again, and waiting on it would make the channel due at every tick.
        if kind == MessageKind.UPDATE and not update_due(session, athlete.id, channel_id, day):
            continue
        if status == DeliveryStatus.RETRY:
            waiting.append(next_attempt_at or now)
        elif status == DeliveryStatus.CLAIMED:
            waiting.append(updated_at + timedelta(seconds=settings.email_claim_timeout_s))
    if MessageKind.MORNING not in kinds:  # due, yet nothing claimed (the round stopped early)
        waiting.append(now + timedelta(seconds=settings.push_retry_backoff_s))
    if waiting:
        return max(min(waiting), now)
    return next_morning_at(athlete.timezone, athlete.send_time, now, today_settled=True)


def reschedule(session: Session, athlete_id: int, now: datetime, settings: Settings) -> None:
    """Store the next moment of each of the athlete's active channels (not over a wake-up)."""
    athlete = session.get(Athlete, athlete_id)
    if athlete is None:
        return
    channels = session.scalars(
        select(NotifyChannel.id)
        .where(NotifyChannel.athlete_id == athlete_id, NotifyChannel.status == ChannelStatus.ACTIVE)
        .order_by(NotifyChannel.id)  # the order every writer of these rows takes them in
    ).all()
    for channel_id in channels:
        moment = next_push_at(session, channel_id, athlete, now, settings)
        session.execute(
            update(NotifyChannel)
            .where(
                NotifyChannel.id == channel_id,
                NotifyChannel.status == ChannelStatus.ACTIVE,
                or_(NotifyChannel.next_push_at.is_(None), NotifyChannel.next_push_at != DUE_AT_ONCE),
            )
            .values(next_push_at=moment)
            .execution_options(synchronize_session=False)
        )


def wake_athlete_channels(session: Session, athlete_id: int) -> None:
    """The athlete's send time or time zone changed: each active channel is looked at next tick."""
    session.execute(
        update(NotifyChannel)
        .where(NotifyChannel.athlete_id == athlete_id, NotifyChannel.status == ChannelStatus.ACTIVE)
        .values(next_push_at=DUE_AT_ONCE)
        .execution_options(synchronize_session=False)
    )
