"""The last days of stored data behind the report's charts: leg sets, run load, HRV, sleep."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sync.daily import RUN_SPORT, thresholds_for
from sync.db.models import Activity, Athlete, StrengthSet, WellnessDay


@dataclass(frozen=True)
class DayPoint:
    """One day of the charts; None where nothing is known."""

    day: date
    leg_sets: float
    run_load: float
    hrv_ms: float | None
    sleep_h: float | None


@dataclass(frozen=True)
class Series:
    """`days` points ending on `last`, and the HRV normal range (ms) when a baseline exists."""

    points: list[DayPoint]
    hrv_range: tuple[float, float] | None


def _hrv_range(session: Session, athlete: Athlete, last: date) -> tuple[float, float] | None:
    """Baseline mean +/- the HRV_LOW factor x SD of ln(RMSSD), over the model's baseline window."""
    t = thresholds_for(athlete)
    values = session.scalars(
        select(WellnessDay.hrv_last_night_ms).where(
            WellnessDay.athlete_id == athlete.id,
            WellnessDay.date.between(last - timedelta(days=t.hrv_baseline_days), last - timedelta(days=1)),
            WellnessDay.hrv_last_night_ms > 0,
        )
    ).all()
    if len(values) < t.hrv_baseline_min_nights:
        return None
    logs = [math.log(v) for v in values]
    mean, sd = statistics.fmean(logs), statistics.stdev(logs)
    return math.exp(mean - t.hrv_sd_factor * sd), math.exp(mean + t.hrv_sd_factor * sd)


def recent_series(session: Session, athlete: Athlete, last: date, days: int = 14) -> Series:
    """The charts' data for the `days` days ending on `last`."""
    first = last - timedelta(days=days - 1)
    leg = dict(
        session.execute(
            select(Activity.local_date, func.sum(StrengthSet.lower_body))
            .join(StrengthSet, StrengthSet.activity_id == Activity.id)
            .where(
                Activity.athlete_id == athlete.id,
                Activity.local_date.between(first, last),
                StrengthSet.set_type == "active",
            )
            .group_by(Activity.local_date)
        ).all()
    )
    load = dict(
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
    wellness = {
        w.date: w
        for w in session.scalars(
            select(WellnessDay).where(
                WellnessDay.athlete_id == athlete.id, WellnessDay.date.between(first, last)
            )
        )
    }
    points = []
    for offset in range(days):
        d = first + timedelta(days=offset)
        w = wellness.get(d)
        points.append(
            DayPoint(
                day=d,
                leg_sets=float(leg.get(d) or 0.0),
                run_load=float(load.get(d) or 0.0),
                hrv_ms=w.hrv_last_night_ms if w and w.hrv_last_night_ms else None,
                sleep_h=round(w.sleep_seconds / 3600.0, 1) if w and w.sleep_seconds else None,
            )
        )
    return Series(points, _hrv_range(session, athlete, last))
