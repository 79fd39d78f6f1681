"""An athlete's notification channels: Apprise URLs, encrypted at rest, shown only redacted.

`legday athlete notify add|list|test|remove|resume` call these. The URL is checked by Apprise
before it is stored, encrypted with the at-rest key (the Garmin tokens' Fernet key), and
decrypted only to send (`channel_url`). It never goes into a log line, an error, a Celery
message (tasks carry ids) or the console: `redacted` is what people see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.config import Settings, decrypt_at_rest, encrypt_at_rest
from sync.db.models import DUE_AT_ONCE, ChannelDelivery, NotifyChannel
from sync.db.statuses import ChannelStatus
from sync.errors import NotFoundError
from sync.notify.push import transport

__all__ = [
    "ChannelInfo",
    "add_channel",
    "channel_url",
    "list_channels",
    "remove_channel",
    "resume_channel",
    "test_channel",
]

WHAT = "notification channel URL"
TEST_TITLE = "legday test"
TEST_BODY = "This channel works: legday's morning answer (RUN, EASY or REST) will arrive here."


@dataclass(frozen=True)
class ChannelInfo:
    """One channel as `notify list` shows it."""

    id: int
    shown: str  # the redacted URL
    status: ChannelStatus
    reason: str | None
    last: str | None  # "2026-03-10 morning: sent"


def channel_url(settings: Settings, channel: NotifyChannel) -> str:
    """The channel's URL in clear (to send only; never log it)."""
    return decrypt_at_rest(settings, channel.url_encrypted, WHAT).decode()


def add_channel(
    session: Session, athlete_id: int, url: str, settings: Settings, now: datetime
) -> ChannelInfo:
    """Store a new channel for the athlete once Apprise accepts the URL (`InvalidChannel`
    otherwise); the same URL twice is one channel. Flushes only."""
    url = url.strip()
    transport.check_url(url)
    for channel in _channels(session, athlete_id):
        if channel_url(settings, channel) == url:
            return _info(session, settings, channel)
    channel = NotifyChannel(
        athlete_id=athlete_id, url_encrypted=encrypt_at_rest(settings, url.encode()), created_at=now
    )
    channel.status = ChannelStatus.ACTIVE
    session.add(channel)
    session.flush()
    return _info(session, settings, channel)


def list_channels(session: Session, athlete_id: int, settings: Settings) -> list[ChannelInfo]:
    """The athlete's channels, oldest first, URLs redacted."""
    return [_info(session, settings, c) for c in _channels(session, athlete_id)]


def remove_channel(session: Session, athlete_id: int, channel_id: int) -> None:
    """Delete one of the athlete's channels (and its delivery rows); `NotFoundError` if not theirs."""
    session.delete(_own(session, athlete_id, channel_id))
    session.flush()


def resume_channel(session: Session, athlete_id: int, channel_id: int) -> None:
    """Start sending to a paused channel again (its failing days count from zero)."""
    channel = _own(session, athlete_id, channel_id)
    channel.status = ChannelStatus.ACTIVE
    channel.status_reason = None
    channel.paused_at = None
    channel.next_push_at = DUE_AT_ONCE  # looked at by the next tick
    session.flush()


def test_channel(session: Session, athlete_id: int, channel_id: int, settings: Settings) -> None:
    """Send a test message now (no delivery row: it is not the day's message). Raises the
    transport's errors, whose text names no secret."""
    url = channel_url(settings, _own(session, athlete_id, channel_id))
    transport.send(url, TEST_TITLE, TEST_BODY, timeout_s=settings.push_timeout_s)


def _channels(session: Session, athlete_id: int) -> list[NotifyChannel]:
    return list(
        session.scalars(
            select(NotifyChannel).where(NotifyChannel.athlete_id == athlete_id).order_by(NotifyChannel.id)
        )
    )


def _own(session: Session, athlete_id: int, channel_id: int) -> NotifyChannel:
    channel = session.get(NotifyChannel, channel_id)
    if channel is None or channel.athlete_id != athlete_id:
        raise NotFoundError(f"no notification channel {channel_id} for this athlete")
    return channel


def _info(session: Session, settings: Settings, channel: NotifyChannel) -> ChannelInfo:
    last = session.scalar(
        select(ChannelDelivery)
        .where(ChannelDelivery.channel_id == channel.id)
        .order_by(ChannelDelivery.date.desc(), ChannelDelivery.id.desc())
        .limit(1)
    )
    return ChannelInfo(
        id=channel.id,
        shown=transport.redacted(channel_url(settings, channel)),
        status=ChannelStatus(channel.status),
        reason=channel.status_reason,
        last=f"{last.date} {last.kind}: {last.status}" if last is not None else None,
    )
