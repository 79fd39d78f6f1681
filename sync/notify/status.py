"""What `legday email status` shows: each athlete's latest delivery row, reason included."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sync.db.models import Athlete, EmailDelivery


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
