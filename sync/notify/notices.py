"""Lines the email adds about the data behind a verdict: a stale sync, late overnight data."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sync.db.models import Athlete, GarminAccount, SyncRun, WellnessDay
from sync.db.statuses import SyncRunStatus

STALE_AFTER = timedelta(days=1)
# Last night's inputs, as stored on the wellness row of day D, and how the email names them.
OVERNIGHT_INPUTS: tuple[tuple[str, str], ...] = (
    ("sleep_seconds", "sleep"),
    ("hrv_last_night_ms", "HRV"),
    ("resting_hr", "resting heart rate"),
)
USUAL_DAYS = 7  # an input counts as usual when it arrived on any of the days before D


def garmin_account(session: Session, athlete: Athlete) -> GarminAccount | None:
    """The athlete's Garmin account, if one is linked."""
    return session.scalar(select(GarminAccount).where(GarminAccount.athlete_id == athlete.id))


def last_successful_sync(session: Session, athlete: Athlete) -> datetime | None:
    """When the athlete's last Garmin sync or backfill ended ok (or partly ok)."""
    return session.scalar(
        select(func.max(SyncRun.finished_at)).where(
            SyncRun.athlete_id == athlete.id,
            SyncRun.kind.in_(("sync", "backfill")),
            SyncRun.status.in_((SyncRunStatus.OK, SyncRunStatus.PARTIAL)),
        )
    )


def stale_sync_line(session: Session, athlete: Athlete, now: datetime) -> str | None:
    """A line when the athlete's Garmin data is more than a day old (None without an account)."""
    if garmin_account(session, athlete) is None:
        return None
    last = last_successful_sync(session, athlete)
    if last is None:
        return "legday has not synced with Garmin yet: this verdict only knows what was imported."
    age = now - last
    if age <= STALE_AFTER:
        return None
    hours = age.total_seconds() / 3600
    ago = f"{hours:.0f} hours" if hours < 48 else f"{hours / 24:.0f} days"
    return (
        f"Your last successful Garmin sync was {ago} ago: this verdict may miss your latest "
        f"training, sleep and HRV."
    )


def late_data_line(session: Session, athlete: Athlete, day: date) -> str | None:
    """A line naming last night's inputs that usually arrive but had not when the email went."""
    rows = session.scalars(
        select(WellnessDay).where(
            WellnessDay.athlete_id == athlete.id,
            WellnessDay.date >= day - timedelta(days=USUAL_DAYS),
            WellnessDay.date <= day,
        )
    ).all()
    today = next((r for r in rows if r.date == day), None)
    earlier = [r for r in rows if r.date < day]
    missing = [
        label
        for field, label in OVERNIGHT_INPUTS
        if any(getattr(r, field) is not None for r in earlier)
        and (today is None or getattr(today, field) is None)
    ]
    if not missing:
        return None
    names = ", ".join(missing[:-1]) + (" and " if len(missing) > 1 else "") + missing[-1]
    verb = "has" if len(missing) == 1 else "have"
    return (
        f"Last night's {names} {verb} not arrived yet: this verdict uses what was known at "
        f"send time. Once your watch has synced, your report page shows the updated verdict."
    )
