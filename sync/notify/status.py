"""Where an athlete's emails stand: the latest delivery rows (`legday email status`) and which
day's email is the next one (`legday email preview`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sync.db.models import Athlete, EmailDelivery
from sync.scheduling import local_moment, local_today


def delivery_rows(session: Session, day: date | None = None) -> list[dict[str, Any]]:
    """One dict per athlete with a delivery row: that of `day`, or the latest one."""
    query = select(EmailDelivery, Athlete.name).join(Athlete, Athlete.id == EmailDelivery.athlete_id)
    if day is not None:
        query = query.where(EmailDelivery.date == day)
    else:
        latest = (
            select(EmailDelivery.athlete_id, func.max(EmailDelivery.date).label("day"))
            .group_by(EmailDelivery.athlete_id)
            .subquery()
        )
        query = query.join(
            latest, (latest.c.athlete_id == EmailDelivery.athlete_id) & (latest.c.day == EmailDelivery.date)
        )
    out = []
    for row, name in session.execute(query.order_by(Athlete.name)):
        out.append(
            {
                "athlete": name,
                "date": row.date.isoformat(),
                "kind": row.kind,
                "status": row.status,
                "attempts": row.attempts,
                "sent_at": row.sent_at.isoformat() if row.sent_at else None,
                "next_attempt_at": row.next_attempt_at.isoformat() if row.next_attempt_at else None,
                "reason": row.error,
            }
        )
    return out


def next_email_day(session: Session, athlete: Athlete, now: datetime | None = None) -> date:
    """The local day of the athlete's next daily email: today's, or tomorrow's once today's has a
    delivery row (it went, or is on its way)."""
    today = local_today(athlete.timezone, now)
    sent = session.scalar(
        select(EmailDelivery.id).where(EmailDelivery.athlete_id == athlete.id, EmailDelivery.date == today)
    )
    return today if sent is None else today + timedelta(days=1)


def email_moment(athlete: Athlete, day: date, now: datetime | None = None) -> datetime:
    """When the email of `day` is (or would have been) composed: its send time, or now if later."""
    return max(now or datetime.now(UTC), local_moment(day, athlete.send_time, athlete.timezone))
