"""The day's verdict stays the day's verdict: what the morning message said, and what changed.

Once the first morning message of a day (the email or a push) has gone out, its verdict is the
day's: `announce` keeps a copy when that message moves to `sending`, and nothing replaces it. A
later verdict of the day (a late sync, a check-in) that says another flag is shown beside it as
an update, "updated at 09:12: REST (soreness 8/10)", by every output (report page, watch feed,
API, calendar) through `day_answer`, never silently instead of it.

Outputs (the senders) write the announcement in their own transaction; reads go through
`day_answer` / `announced_of`. Nothing here computes a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sync.db.models import DUE_AT_ONCE, AnnouncedVerdict, Athlete, NotifyChannel
from sync.db.statuses import ChannelStatus
from sync.db.upsert import insert_if_new
from sync.readiness.display import update_line
from sync.scheduling import local_moment
from sync.verdicts.read import StoredVerdict, from_row, verdict_of, verdicts_between

__all__ = ["DayAnswer", "announce", "announced_of", "answers_between", "day_answer", "wake_channels_of_day"]


def announce(session: Session, athlete_id: int, stored: StoredVerdict, now: datetime, via: str) -> bool:
    """Keep `stored` as the day's verdict unless one is kept already (the first message wins,
    also between an email and a push racing); True when this call kept it. Flushes only."""
    return (
        insert_if_new(
            session,
            AnnouncedVerdict,
            {
                "athlete_id": athlete_id,
                "date": stored.date,
                "flag": str(stored.flag),
                "model_version": stored.model_version,
                "payload": stored.verdict.to_json_dict(),
                "computed_at": stored.computed_at,
                "announced_at": now,
                "via": via,
            },
        )
        is not None
    )


def wake_channels_of_day(session: Session, athlete: Athlete, day: date, now: datetime) -> None:
    """A verdict of `day` is being stored: once the day's send moment has come (its messages may
    have gone out, or be going out right now), each of the athlete's active push channels is due
    at once, for an update may be due (sync/notify/push/due.py). Before the send moment nothing
    is written: the morning message, when it goes, reads the newest verdict.

    Every channel of the athlete, not only those with a delivery row yet: a message being claimed
    while this transaction runs would otherwise be missed. The UPDATE's row locks last until the
    commit, and a dispatcher's reschedule (which never overwrites the wake-up) waits for them."""
    try:
        came = now >= local_moment(day, athlete.send_time, athlete.timezone)
    except Exception:  # noqa: BLE001 - an unknown time zone: no message can be placed either
        came = False
    if not came:
        return
    session.execute(
        update(NotifyChannel)
        .where(NotifyChannel.athlete_id == athlete.id, NotifyChannel.status == ChannelStatus.ACTIVE)
        .values(next_push_at=DUE_AT_ONCE)
        .execution_options(synchronize_session=False)
    )


def announced_of(session: Session, athlete_id: int, day: date) -> StoredVerdict | None:
    """The verdict the day's first morning message said, or None when none went out yet."""
    row = session.scalar(
        select(AnnouncedVerdict).where(
            AnnouncedVerdict.athlete_id == athlete_id, AnnouncedVerdict.date == day
        )
    )
    return from_row(row) if row is not None else None


@dataclass(frozen=True)
class DayAnswer:
    """A day's verdict as outputs show it: the day's (announced, else the current one) and,
    when a later verdict says another flag, that one as the update."""

    day: StoredVerdict
    update: StoredVerdict | None = None

    @property
    def latest(self) -> StoredVerdict:
        """The newest verdict of the day (the update when there is one)."""
        return self.update or self.day

    def update_line(self, timezone: str) -> str | None:
        """`updated at HH:MM: REST (soreness 8/10)` (the athlete's local time), or None."""
        if self.update is None:
            return None
        at = self.update.computed_at.astimezone(ZoneInfo(timezone)).strftime("%H:%M")
        return update_line(self.update.verdict, at)

    def to_json(self, timezone: str) -> dict[str, Any]:
        """The API shape: the day's verdict (`StoredVerdict.to_json`) plus `updated`, the update
        line or null, and `latest`, the update's verdict or null."""
        return {
            **self.day.to_json(),
            "updated": self.update_line(timezone),
            "latest": self.update.to_json() if self.update is not None else None,
        }


def answer_from(announced: StoredVerdict | None, current: StoredVerdict | None) -> DayAnswer | None:
    """The rule, on already-read verdicts: the announced one is the day's; the current one is an
    update only when it is newer and says another flag."""
    if announced is None:
        return DayAnswer(current) if current is not None else None
    if current is not None and current.flag != announced.flag and current.computed_at > announced.computed_at:
        return DayAnswer(announced, current)
    return DayAnswer(announced)


def day_answer(session: Session, athlete_id: int, day: date) -> DayAnswer | None:
    """The day's answer for (athlete, day); None when no verdict is stored for it."""
    return answer_from(announced_of(session, athlete_id, day), verdict_of(session, athlete_id, day))


def answers_between(session: Session, athlete_id: int, first: date, last: date) -> list[DayAnswer]:
    """The day answers of the days from `first` to `last` that have a verdict, oldest first
    (two queries: the verdicts that count, and the announced ones of the range)."""
    announced = {
        row.date: row
        for row in session.scalars(
            select(AnnouncedVerdict).where(
                AnnouncedVerdict.athlete_id == athlete_id,
                AnnouncedVerdict.date >= first,
                AnnouncedVerdict.date <= last,
            )
        )
    }
    answers = []
    for stored in verdicts_between(session, athlete_id, first, last):
        row = announced.get(stored.date)
        told = from_row(row) if row is not None else None
        answer = answer_from(told, stored)
        if answer is not None:
            answers.append(answer)
    return answers
