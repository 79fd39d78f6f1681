"""Typed records the Garmin adapter returns: Garmin's JSON field names stop here.

Plain frozen dataclasses built by the endpoint modules (`profile`, `activities`, `wellness`)
from Garmin Connect's answers (shapes in shared/garmin-connect/API.md). Values are carried
as Garmin sends them (no defaults invented), except that a wellness or heart-rate value
outside its plausible range (sync/garmin/plausible.py) is None, with a logged reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any


def iso_day(value: Any) -> date | None:
    """A `YYYY-MM-DD` calendar date, else None (only the exact ISO form is a date here)."""
    if not isinstance(value, str):
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day if day.isoformat() == value else None


def gmt_time(text: str) -> datetime:
    """Garmin's `YYYY-MM-DD HH:MM:SS` GMT timestamps as aware UTC datetimes."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def dto_time(text: Any) -> datetime | None:
    """A DTO's ISO local-format timestamp (UTC, fractions dropped); None when absent or bad."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).split(".")[0]).replace(tzinfo=UTC)
    except ValueError:
        return None


@dataclass(frozen=True)
class Profile:
    """The social profile: who the tokens belong to."""

    display_name: str | None
    user_name: str | None
    profile_id: int | None


@dataclass(frozen=True)
class HeartRateZones:
    """One sport's HR zone settings: the max and resting HR Garmin uses (ints, else None)."""

    sport: str | None
    max_hr: int | None
    rest_hr: int | None


@dataclass(frozen=True)
class ActivitySummary:
    """One row of the activity list."""

    activity_id: int
    start_utc: datetime
    type_key: str  # lower case, "" when absent
    has_exercise_sets: bool  # Garmin lists summarised exercise sets for it


@dataclass(frozen=True)
class UnreadableActivity:
    """An activity-list row that cannot be read (no start time, a malformed one...)."""

    activity_id: int | None
    reason: str


@dataclass(frozen=True)
class ExerciseSet:
    """One of Garmin's exerciseSets of an activity (with the athlete's corrections)."""

    index: int  # Garmin's messageIndex, else the position in the list
    active: bool
    category: str | None  # the most probable guess, lower case; None when Garmin has none
    category_guesses: tuple[str | None, ...]  # every guess, most probable first
    exercise: str | None  # the most probable guess's exercise name, lower case
    reps: int | None
    weight_kg: float | None  # 0.0 = entered as zero; None = not entered
    duration_s: float | None
    start_utc: datetime | None


@dataclass(frozen=True)
class HrvNight:
    """One night's HRV summary."""

    day: date | None
    last_night_avg_ms: float | None
    weekly_avg_ms: float | None
    status: str | None


@dataclass(frozen=True)
class SleepNight:
    """The sleep of the night ending on a day."""

    sleep_seconds: int | None
    sleep_score: int | None
    resting_hr: float | None


@dataclass(frozen=True)
class BodyBatteryDay:
    """The highest body-battery level of one day."""

    day: date
    peak: int


@dataclass(frozen=True)
class ReadinessSnapshot:
    """One training-readiness snapshot."""

    score: int | None
    recovery_minutes: float | None
    after_wakeup_reset: bool  # taken at the morning reset, the value of the day


@dataclass(frozen=True)
class StoredWorkout:
    """A workout Garmin stored (the answer to a create)."""

    workout_id: int
    name: str | None
    owner_id: int | None


@dataclass(frozen=True)
class ScheduledWorkout:
    """A workout put on a calendar date (the answer to a schedule)."""

    schedule_id: int
    workout_id: int | None
    day: date | None
