"""Daily wellness (HRV, resting HR, body battery, sleep, readiness) into WellnessDay rows."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.db.models import WellnessDay
from sync.db.upsert import upsert_many
from sync.garmin.windows import date_windows
from sync.garmin_sync.context import RunContext

WELLNESS_WINDOW_DAYS = 28  # one HRV / body-battery range call per window
WELLNESS_OVERLAP_DAYS = 2  # last nights' values are finalised late (sleep edits, readiness)


def sync_wellness_window(run: RunContext, lo: date, hi: date, settled: frozenset[date] = frozenset()) -> None:
    """Upsert WellnessDay rows for [lo, hi] (athlete-local dates).

    Days in `settled` already have their per-day values (sleep, readiness) stored: only the range
    calls (HRV, resting HR, body battery) refresh them, saving two requests per day.
    """
    c = run.client
    hrv = {night.day: night for night in c.hrv_range(lo, hi)}
    rhr = c.resting_hr_range(lo, hi)
    battery = {b.day: b.peak for b in c.body_battery_reports(lo, hi)}
    rows: list[dict[str, Any]] = []  # the window's days, written in one statement
    day = lo
    while day <= hi:
        values: dict[str, Any] = {}
        night = hrv.get(day)
        values["hrv_last_night_ms"] = night.last_night_avg_ms if night else None
        values["hrv_weekly_avg_ms"] = night.weekly_avg_ms if night else None
        values["hrv_status"] = night.status if night else None
        sleep = c.sleep_day(day) if day not in settled else None
        values["sleep_seconds"] = sleep.sleep_seconds if sleep else None
        values["sleep_score"] = sleep.sleep_score if sleep else None
        values["resting_hr"] = rhr.get(day, sleep.resting_hr if sleep else None)
        values["body_battery"] = battery.get(day)
        snapshots = c.training_readiness(day) if day not in settled else None
        if snapshots:
            # The morning value: the wake-up reset, else the day's earliest snapshot.
            morning = next((s for s in snapshots if s.after_wakeup_reset), snapshots[-1])
            values["training_readiness"] = morning.score
            minutes = morning.recovery_minutes
            values["recovery_time_h"] = round(minutes / 60.0, 2) if minutes is not None else None
        present = {k: v for k, v in values.items() if v is not None}
        if present:  # only known values: a later "no data" never erases a stored one
            rows.append({"athlete_id": run.athlete.id, "date": day, **present})
        day += timedelta(days=1)
    run.report.wellness_days += upsert_many(run.session, WellnessDay, rows, ["athlete_id", "date"])


def sync_wellness(run: RunContext, today: date) -> None:
    """From the last synced day (minus an overlap) through today."""
    cursor = run.account.wellness_cursor
    if cursor is not None:
        start = cursor - timedelta(days=WELLNESS_OVERLAP_DAYS)
    else:
        start = today - timedelta(days=run.settings.garmin_initial_days)
    windows = date_windows(start, today, WELLNESS_WINDOW_DAYS)
    settled = _settled_days(run, start, today)
    for i, (lo, hi) in enumerate(windows):
        sync_wellness_window(run, lo, hi, settled)
        run.account.wellness_cursor = hi
        run.checkpoint()  # the resume point: this window is kept
        if run.progress:
            run.progress(f"wellness to {hi}", i + 1, len(windows))


def _settled_days(run: RunContext, start: date, today: date) -> frozenset[date]:
    """Past days of the overlap whose sleep and readiness are stored (today is never settled).

    An account without Garmin readiness (the Personal API) never stores one: sleep settles it.
    """
    conditions = [
        WellnessDay.athlete_id == run.athlete.id,
        WellnessDay.date >= start,
        WellnessDay.date < today,
        WellnessDay.sleep_seconds.is_not(None),
    ]
    if run.client.capabilities.readiness:
        conditions.append(WellnessDay.training_readiness.is_not(None))
    rows = run.session.scalars(select(WellnessDay.date).where(*conditions))
    return frozenset(rows)


def night_complete(session: Session, athlete_id: int, day: date) -> bool:
    """Whether last night's values for `day` (HRV, sleep, resting HR) are all stored already.

    Then a scheduled wellness fetch has nothing left to learn: the scheduler skips it and only
    checks for new activities (one request instead of about ten).
    """
    row = session.scalar(
        select(WellnessDay).where(WellnessDay.athlete_id == athlete_id, WellnessDay.date == day)
    )
    return bool(
        row is not None
        and row.hrv_last_night_ms is not None
        and row.sleep_seconds is not None
        and row.resting_hr is not None
    )
