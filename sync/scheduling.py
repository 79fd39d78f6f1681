"""Athlete-local dates and times (zoneinfo; DST-safe)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo


def local_today(timezone: str, now: datetime | None = None) -> date:
    """Today's date where the athlete lives."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()


def local_moment(day: date, at: time, timezone: str) -> datetime:
    """`day` at wall-clock `at` in `timezone`, as an aware datetime.

    A wall time skipped by a DST jump resolves forward (fold=0 semantics of zoneinfo), so a
    06:30 send time always exists.
    """
    return datetime.combine(day, at, tzinfo=ZoneInfo(timezone))
