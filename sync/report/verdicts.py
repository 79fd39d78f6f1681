"""Reading verdicts for the outputs: the stored JSON (as `legday verdict --json`) plus `date`."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.daily import compute_verdict
from sync.db.models import Athlete, VerdictRecord
from sync.scheduling import local_today

MAX_RANGE_DAYS = 366


def athlete_today(athlete: Athlete, now: datetime | None = None) -> date:
    """The athlete's local date."""
    return local_today(athlete.timezone, now)


def verdict_json(record: VerdictRecord) -> dict[str, Any]:
    """The API shape: the stored verdict JSON plus `date`."""
    return {**record.payload, "date": record.date.isoformat()}


def stored_verdict(session: Session, athlete: Athlete, day: date) -> VerdictRecord | None:
    """The most recently computed verdict of (athlete, day), whatever the model version."""
    return session.scalar(
        select(VerdictRecord)
        .where(VerdictRecord.athlete_id == athlete.id, VerdictRecord.date == day)
        .order_by(VerdictRecord.computed_at.desc(), VerdictRecord.id.desc())
        .limit(1)
    )


def verdict_for_day(session: Session, athlete: Athlete, day: date) -> VerdictRecord | None:
    """The stored verdict of `day`; computed (and stored) first when missing and `day` is today
    or tomorrow for the athlete. Past days without a verdict stay missing (None)."""
    record = stored_verdict(session, athlete, day)
    if record is not None:
        return record
    if not athlete_today(athlete) <= day <= athlete_today(athlete) + timedelta(days=1):
        return None
    compute_verdict(session, athlete, day)
    session.flush()
    return stored_verdict(session, athlete, day)


def verdicts_between(session: Session, athlete: Athlete, first: date, last: date) -> list[dict[str, Any]]:
    """Stored verdicts from `first` to `last` inclusive, one per day (the newest), oldest first."""
    rows = session.scalars(
        select(VerdictRecord)
        .where(VerdictRecord.athlete_id == athlete.id, VerdictRecord.date.between(first, last))
        .order_by(VerdictRecord.date, VerdictRecord.computed_at, VerdictRecord.id)
    ).all()
    newest: dict[date, VerdictRecord] = {}
    for record in rows:
        newest[record.date] = record
    return [verdict_json(newest[d]) for d in sorted(newest)]
