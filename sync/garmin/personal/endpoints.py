"""Personal API paths and limits (PERSONAL-API.md s.4 and s.5).

Only paths and numbers: the host is built by the transport so the sandbox override rewrites
every request in one place. Range caps count days inclusively (start and end both count).
"""

from __future__ import annotations

from datetime import date

HOST = "personal.connectapi.garmin.com"

TOKEN = "/personalapitoken-service/personal-api/personal-api-key/token"

USER_SETTINGS = "/userprofile-service/userprofile/settings"
HR_ZONES = "/biometric-service/heartRateZones/v2"

ACTIVITY_LIST = "/activitylist-service/activities/search/activities"
MAX_PAGE_SIZE = 45  # HTTP 500 above, including the server's own default: always send `limit`

SLEEP_DAY = "/sleep-service/sleep/dailySleep"  # ?date=
DAILY_SUMMARIES = "/usersummary-service/v2/dailysummaries"  # ?startDate=&endDate=
BODY_BATTERY_REPORTS = "/wellness-service/wellness/bodyBattery/reports/daily"  # ?startDate&endDate

# The widest range each range endpoint answers (HTTP 400 beyond).
HRV_RANGE_MAX_DAYS = 365
SLEEP_RANGE_MAX_DAYS = 31
BODY_BATTERY_RANGE_MAX_DAYS = 31
DAILY_SUMMARIES_MAX_DAYS = 31  # a year is documented, HTTP 500 beyond about 90: 31 is safe
STRESS_RANGE_MAX_DAYS = 28

ZIP = "application/x-zip-compressed"  # the FIT download answers 406 without it


def activity(activity_id: int) -> str:
    """Summary of one activity."""
    return f"/activity-service/activity/{int(activity_id)}"


def fit_download(activity_id: int) -> str:
    """The original FIT file, as a ZIP (Accept: application/x-zip-compressed)."""
    return f"/download-service/files/activity/{int(activity_id)}"


def hrv_range(start: date, end: date) -> str:
    """HRV summaries of a date range (at most HRV_RANGE_MAX_DAYS)."""
    return f"/hrv-service/hrv/daily/{start.isoformat()}/{end.isoformat()}"


def hrv_day(day: date) -> str:
    """HRV of one night (204 or an empty body when none)."""
    return f"/hrv-service/hrv/{day.isoformat()}"
