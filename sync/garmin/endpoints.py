"""Garmin Connect paths legday calls (see shared/garmin-connect/API.md, section 3).

Only paths live here; hosts are built by the client (`{subdomain}.{domain}`) so the sandbox
override rewrites every one of them in one place.
"""

from __future__ import annotations

from datetime import date

CONNECTAPI = "connectapi"
DIAUTH = "diauth"

OAUTH_CONSUMER_URL = "https://thegarth.s3.amazonaws.com/oauth_consumer.json"
GARTH_EXCHANGE = "/oauth-service/oauth/exchange/user/2.0"
DI_TOKEN = "/di-oauth2-service/oauth/token"

SOCIAL_PROFILE = "/userprofile-service/socialProfile"
USER_SETTINGS = "/userprofile-service/userprofile/user-settings"
PERSONAL_INFO = "/userprofile-service/userprofile/personal-information"
HR_ZONES = "/biometric-service/heartRateZones"

ACTIVITY_LIST = "/activitylist-service/activities/search/activities"
WORKOUT_CREATE = "/workout-service/workout"
WORKOUT_LIST = "/workout-service/workouts"  # ?start=&limit=: the library, without steps

# The widest ranges Garmin's range endpoints answer in one call (garth pages at 28 days).
HRV_RANGE_MAX_DAYS = 28
BODY_BATTERY_RANGE_MAX_DAYS = 28
RESTING_HR_RANGE_MAX_DAYS = 365
RESTING_HR_METRIC_ID = 60


def activity(activity_id: int) -> str:
    """Summary of one activity."""
    return f"/activity-service/activity/{int(activity_id)}"


def exercise_sets(activity_id: int) -> str:
    """Garmin's (athlete-corrected) strength sets of one activity."""
    return f"/activity-service/activity/{int(activity_id)}/exerciseSets"


def fit_download(activity_id: int) -> str:
    """The original FIT file, as a ZIP."""
    return f"/download-service/files/activity/{int(activity_id)}"


def hrv_day(day: date) -> str:
    """HRV of one night (204 when none)."""
    return f"/hrv-service/hrv/{day.isoformat()}"


def hrv_range(start: date, end: date) -> str:
    """HRV summaries of a date range, ascending."""
    return f"/hrv-service/hrv/daily/{start.isoformat()}/{end.isoformat()}"


SLEEP_DAY = "/sleep-service/sleep/dailySleepData"  # ?date=


def sleep_scores(start: date, end: date) -> str:
    """Sleep score per day of a range."""
    return f"/wellness-service/stats/daily/sleep/score/{start.isoformat()}/{end.isoformat()}"


def resting_hr_range(display_name: str) -> str:
    """Resting HR per day (?fromDate=&untilDate=&metricId=60)."""
    return f"/userstats-service/wellness/daily/{display_name}"


BODY_BATTERY_REPORTS = "/wellness-service/wellness/bodyBattery/reports/daily"  # ?startDate&endDate


def daily_stress(day: date) -> str:
    """Stress and body battery samples of one day (200 `null` when none)."""
    return f"/wellness-service/wellness/dailyStress/{day.isoformat()}"


def training_readiness(day: date) -> str:
    """Training readiness snapshots of one day, newest first (`[]` when none)."""
    return f"/metrics-service/metrics/trainingreadiness/{day.isoformat()}"


def workout(workout_id: int) -> str:
    """One stored workout."""
    return f"/workout-service/workout/{int(workout_id)}"


def schedule_workout(workout_id: int) -> str:
    """Put a workout on the athlete's calendar (POST {"date": ...})."""
    return f"/workout-service/schedule/{int(workout_id)}"


def workout_schedule(schedule_id: int) -> str:
    """One calendar entry (GET or DELETE by its workoutScheduleId)."""
    return f"/workout-service/schedule/{int(schedule_id)}"


def calendar_month(year: int, month: int) -> str:
    """A calendar month's items (workouts scheduled, activities); Garmin counts months from 0."""
    return f"/calendar-service/year/{int(year)}/month/{int(month) - 1}"
