"""An athlete's recent days as one table: verdict, leg sets, run load, HRV, sleep.

The one history query, shared by `legday history`, the report page and its charts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sync.db.models import Activity, Athlete, StrengthSet, WellnessDay
from sync.fit.exercises import hard_lower_body_sets
from sync.verdicts.compute import RUN_SPORT
from sync.verdicts.read import verdicts_between

__all__ = ["DaySummary", "day_summaries"]


@dataclass(frozen=True)
class DaySummary:
    """One athlete-local day: its latest verdict (if any) and the numbers behind it."""

    day: date
    flag: str | None
    codes: tuple[str, ...]
    leg_sets: float
    run_load: float
    hrv_ms: float | None
    hrv_weekly_avg_ms: float | None
    sleep_hours: float | None
    resting_hr: float | None


def day_summaries(session: Session, athlete: Athlete, first: date, last: date) -> list[DaySummary]:
    """Every day from `first` to `last` (inclusive), oldest first; days without data are kept."""
    # The verdict that counts for each day: the one read rule of sync.verdicts.read.
    verdicts = {v.date: v for v in verdicts_between(session, athlete.id, first, last)}
    wellness = {
        w.date: w
        for w in session.scalars(
            select(WellnessDay).where(
                WellnessDay.athlete_id == athlete.id, WellnessDay.date.between(first, last)
            )
        )
    }
    run_load: dict[date, float | None] = dict(  # SUM is NULL when no run has a TRIMP
        session.execute(
            select(Activity.local_date, func.sum(Activity.trimp))
            .where(
                Activity.athlete_id == athlete.id,
                Activity.sport == RUN_SPORT,
                Activity.local_date.between(first, last),
            )
            .group_by(Activity.local_date)
        ).all()
    )
    sets_by_day: dict[date, list[tuple[str, bool]]] = defaultdict(list)
    for local_date, category, set_type in session.execute(
        select(Activity.local_date, StrengthSet.category, StrengthSet.set_type)
        .join(StrengthSet, StrengthSet.activity_id == Activity.id)
        .where(Activity.athlete_id == athlete.id, Activity.local_date.between(first, last))
    ):
        sets_by_day[local_date].append((category, set_type == "active"))

    out = []
    for offset in range((last - first).days + 1):
        d = first + timedelta(days=offset)
        v, w = verdicts.get(d), wellness.get(d)
        out.append(
            DaySummary(
                day=d,
                flag=str(v.flag) if v else None,
                codes=tuple(v.verdict.codes) if v else (),
                leg_sets=hard_lower_body_sets(sets_by_day.get(d, ())),
                run_load=float(run_load.get(d) or 0.0),
                hrv_ms=w.hrv_last_night_ms if w else None,
                hrv_weekly_avg_ms=w.hrv_weekly_avg_ms if w else None,
                sleep_hours=w.sleep_seconds / 3600 if w and w.sleep_seconds else None,
                resting_hr=w.resting_hr if w else None,
            )
        )
    return out
