"""The last days of stored data behind the report's charts: leg sets, run load, HRV, sleep.

The days come from the one history query (`sync.history`), the HRV normal range from the
model's own baseline (`sync.readiness.baselines`), so the charts and the verdict agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.db.models import Athlete, WellnessDay
from sync.history import day_summaries
from sync.readiness.baselines import hrv_baseline
from sync.verdicts.thresholds import thresholds_for


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
    first = last - timedelta(days=t.hrv_baseline_days)
    rows = session.execute(
        select(WellnessDay.date, WellnessDay.hrv_last_night_ms).where(
            WellnessDay.athlete_id == athlete.id,
            WellnessDay.date.between(first, last - timedelta(days=1)),
            WellnessDay.hrv_last_night_ms > 0,
        )
    ).all()
    nights = {day: ms for day, ms in rows if ms is not None}  # `> 0` already leaves NULLs out
    base = hrv_baseline(nights, last, t.hrv_baseline_days, t.hrv_baseline_min_nights)
    if base.baseline_mean_ln is None or base.baseline_sd_ln is None:
        return None
    spread = t.hrv_sd_factor * base.baseline_sd_ln
    return math.exp(base.baseline_mean_ln - spread), math.exp(base.baseline_mean_ln + spread)


def recent_series(session: Session, athlete: Athlete, last: date, days: int = 14) -> Series:
    """The charts' data for the `days` days ending on `last`."""
    rows = day_summaries(session, athlete, last - timedelta(days=days - 1), last)
    points = [
        DayPoint(
            day=r.day,
            leg_sets=r.leg_sets,
            run_load=r.run_load,
            hrv_ms=r.hrv_ms or None,
            sleep_h=round(r.sleep_hours, 1) if r.sleep_hours else None,
        )
        for r in rows
    ]
    return Series(points, _hrv_range(session, athlete, last))
