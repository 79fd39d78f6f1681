"""When an account is due for a sync: a cheap activity check often, wellness around the morning.

Pure functions of the clock and the athlete's time zone and send time (no I/O), shared by the
worker's dispatcher and `legday status`. The night's HRV and sleep exist once the athlete is
up, so the full sync (wellness too) runs at two local moments a day: after the usual wake time
(`wake_time`) and `wellness_lead_min` minutes before the send time, so the morning email uses
last night's values. In between, only the activity list is checked (one request when nothing
is new) every `activity_check_interval_s`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sync.config import Settings
from sync.scheduling import local_moment, local_today


def wellness_slots(day: date, timezone: str, send_time: time, settings: Settings) -> list[datetime]:
    """The (aware) moments of `day` at which the full sync is due, earliest first."""
    wake = local_moment(day, settings.wake_time, timezone)
    before_send = local_moment(day, send_time, timezone) - timedelta(minutes=settings.wellness_lead_min)
    return sorted({wake, max(wake, before_send)})


def latest_slot(now: datetime, timezone: str, send_time: time, settings: Settings) -> datetime:
    """The last wellness moment at or before `now` (today's or yesterday's)."""
    today = local_today(timezone, now)
    slots = [
        s
        for day in (today - timedelta(days=1), today)
        for s in wellness_slots(day, timezone, send_time, settings)
        if s <= now
    ]
    return max(slots)


def next_slot(now: datetime, timezone: str, send_time: time, settings: Settings) -> datetime:
    """The first wellness moment after `now`."""
    today = local_today(timezone, now)
    return min(
        s
        for day in (today, today + timedelta(days=1))
        for s in wellness_slots(day, timezone, send_time, settings)
        if s > now
    )


def wellness_due(
    last_full: datetime | None, now: datetime, timezone: str, send_time: time, settings: Settings
) -> bool:
    """Whether a full sync is owed: none yet, or none since the latest wellness moment."""
    return last_full is None or last_full < latest_slot(now, timezone, send_time, settings)


def next_due(
    last_check: datetime | None,
    last_full: datetime | None,
    now: datetime,
    timezone: str,
    send_time: time,
    settings: Settings,
) -> datetime:
    """When the account's next sync of either kind is due (`now` if overdue)."""
    if last_check is None or wellness_due(last_full, now, timezone, send_time, settings):
        return now
    check = last_check + timedelta(seconds=settings.activity_check_interval_s)
    return max(now, min(check, next_slot(now, timezone, send_time, settings)))
