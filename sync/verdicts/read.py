"""Which stored verdict counts for a day, read back as a typed verdict. The one read rule.

**The rule.** A day can hold one stored verdict per model version (the row's key is athlete,
date, model version). The verdict that counts for (athlete, day) is the one of the current
model version (`sync.readiness.MODEL_VERSION`); when the day has none, the most recently
computed one of an older version (so the history computed before an upgrade still shows). Ties
on `computed_at` go to the newer row. Every output (email, report page, API, watch feed,
workout push) reads through `counting` / `verdict_of` / `verdicts_between`: none has a rule
of its own, and none computes (that is `sync.verdicts.compute`).

Whether the counted verdict is fresh enough for a purpose (the morning email wants one of the
current version computed at or after the send time) is the compute side's question
(`sync.verdicts.policy`), asked before the output reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.db.models import Athlete, VerdictRecord
from sync.readiness import MODEL_VERSION
from sync.readiness.verdict import Flag, Verdict
from sync.scheduling import local_today

__all__ = [
    "MAX_RANGE_DAYS",
    "StoredVerdict",
    "athlete_today",
    "counting",
    "from_row",
    "missing_days",
    "verdict_of",
    "verdicts_between",
]

MAX_RANGE_DAYS = 366


class VerdictRow(Protocol):
    """What the rule needs of a stored row: an ORM `VerdictRecord` or a Core row alike."""

    id: int
    date: date
    model_version: str
    payload: dict[str, Any]
    computed_at: datetime


@dataclass(frozen=True)
class StoredVerdict:
    """The verdict that counts for a day: the model's typed `Verdict` plus when and by which
    model version it was computed."""

    verdict: Verdict
    date: date
    computed_at: datetime
    model_version: str

    @property
    def flag(self) -> Flag:
        """The verdict's flag."""
        return self.verdict.flag

    def to_json(self) -> dict[str, Any]:
        """The API shape: the verdict's JSON (as `legday verdict --json`) plus `date`."""
        return {**self.verdict.to_json_dict(), "date": self.date.isoformat()}


R = TypeVar("R", bound=VerdictRow)


def _rank(row: VerdictRow) -> tuple[bool, datetime, int]:
    return (row.model_version == MODEL_VERSION, row.computed_at, row.id)


def counting(rows: Iterable[R]) -> R | None:
    """The row that counts among the stored rows of one athlete-day (the rule above)."""
    return max(rows, key=_rank, default=None)


def from_row(row: VerdictRow) -> StoredVerdict:
    """The typed verdict of a stored row, rebuilt from its payload."""
    return StoredVerdict(
        verdict=Verdict.model_validate(row.payload),
        date=row.date,
        computed_at=row.computed_at,
        model_version=row.model_version,
    )


def athlete_today(athlete: Athlete, now: datetime | None = None) -> date:
    """The athlete's local date."""
    return local_today(athlete.timezone, now)


def verdict_of(session: Session, athlete_id: int, day: date) -> StoredVerdict | None:
    """The verdict that counts for (athlete, day), or None when none is stored."""
    rows = session.scalars(
        select(VerdictRecord).where(VerdictRecord.athlete_id == athlete_id, VerdictRecord.date == day)
    ).all()
    row = counting(rows)
    return from_row(row) if row is not None else None


def verdicts_between(session: Session, athlete_id: int, first: date, last: date) -> list[StoredVerdict]:
    """The verdict that counts for each day from `first` to `last` inclusive that has one, oldest first."""
    by_day: dict[date, list[VerdictRecord]] = {}
    for row in session.scalars(
        select(VerdictRecord).where(
            VerdictRecord.athlete_id == athlete_id, VerdictRecord.date.between(first, last)
        )
    ):
        by_day.setdefault(row.date, []).append(row)
    counted = (counting(by_day[d]) for d in sorted(by_day))
    return [from_row(row) for row in counted if row is not None]  # each day's list has a row


def missing_days(session: Session, athlete_id: int, days: list[date]) -> list[date]:
    """The days among `days` whose counting verdict is missing or of an older model version."""
    current = set(
        session.scalars(
            select(VerdictRecord.date).where(
                VerdictRecord.athlete_id == athlete_id,
                VerdictRecord.date.in_(days),
                VerdictRecord.model_version == MODEL_VERSION,
            )
        )
    )
    return [d for d in days if d not in current]
