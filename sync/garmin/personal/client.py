"""The Personal API client: the calls the sync makes, returning the Connect client's records.

Same method names and records as `sync.garmin.client.GarminClient`, so `sync/garmin_sync`
runs one code path for every kind of account. What the Personal API does not have is
answered here without a request: no Garmin exercise sets (`exercise_sets` -> None: the FIT's
own sets are used), no training readiness (`[]`), no writes (`GarminNotSupported`).
`capabilities` says so, for the sync's bookkeeping and the verdict's "not known" line.

Limits are kept here, never left to the server: every list request sends `limit` <= 45 (a
larger page the sync asks for is fetched as several), and every range is split at its cap.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NoReturn

from sync.garmin.activities import _list_row
from sync.garmin.capabilities import PERSONAL_API, Capabilities
from sync.garmin.errors import GarminBadResponse, GarminNotFound, GarminNotSupported
from sync.garmin.personal import endpoints as ep
from sync.garmin.personal.transport import PersonalApiTransport
from sync.garmin.records import (
    ActivitySummary,
    BodyBatteryDay,
    ExerciseSet,
    HeartRateZones,
    HrvNight,
    Profile,
    ReadinessSnapshot,
    SleepNight,
    iso_day,
)
from sync.garmin.wellness import body_battery_day, hrv_night
from sync.garmin.windows import date_windows

NO_WRITES = (
    "Garmin's Personal API is read-only: a workout cannot be put on the watch for an athlete "
    "connected with a Personal API key"
)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return float(value)


class PersonalApiClient(PersonalApiTransport):
    """The calls legday makes to Garmin's Personal API, for one athlete's key."""

    capabilities: Capabilities = PERSONAL_API

    # -- the account -------------------------------------------------------------------------

    def user_settings(self) -> dict[str, Any] | None:
        """The profile settings (userData...), as Garmin sends them; also checks the token."""
        return self._json("GET", ep.USER_SETTINGS, forbidden_is_auth=True)

    def profile(self) -> Profile:
        """Who the key belongs to, from the profile settings (the API has no social profile)."""
        data = self.user_settings()
        if not isinstance(data, dict):
            raise GarminBadResponse("profile settings: not an object")
        profile_id = _int_or_none(data.get("id"))
        # No display name on this API: the Garmin user id stands in for it.
        name = f"garmin-{profile_id}" if profile_id is not None else None
        self.display_name = name
        return Profile(display_name=name, user_name=None, profile_id=profile_id)

    def heart_rate_zones(self) -> list[HeartRateZones]:
        """HR zone settings per sport (the max and resting HR Garmin uses)."""
        zones = self._json("GET", ep.HR_ZONES) or []
        if isinstance(zones, dict):  # lenient: a wrapper object around the list
            zones = zones.get("zones") or zones.get("heartRateZones") or []
        return [
            HeartRateZones(
                sport=z.get("sport"),
                max_hr=_int_or_none(z.get("maxHeartRateUsed")),
                rest_hr=_int_or_none(z.get("restingHeartRateUsed")),
            )
            for z in zones
            if isinstance(z, dict)
        ]

    # -- activities --------------------------------------------------------------------------

    def activities(
        self,
        start: int = 0,
        limit: int = 20,
        *,
        start_date: date | None = None,
        end_date: date | None = None,
    ) -> list[ActivitySummary | Any]:
        """Up to `limit` activities from `start`, newest first, in pages of at most 45."""
        out: list[Any] = []
        while len(out) < limit:
            size = min(ep.MAX_PAGE_SIZE, limit - len(out))
            params: dict[str, Any] = {"start": start + len(out), "limit": size}
            if start_date is not None:
                params["startDate"] = start_date.isoformat()
            if end_date is not None:
                params["endDate"] = end_date.isoformat()
            data = self._json("GET", ep.ACTIVITY_LIST, params=params, forbidden_is_auth=True)
            page = data if isinstance(data, list) else []
            out.extend(_list_row(item) for item in page)
            if len(page) < size:
                break
        return out

    def activity(self, activity_id: int) -> dict[str, Any]:
        """The summary of one activity, as Garmin sends it."""
        data = self._json("GET", ep.activity(activity_id))
        if not isinstance(data, dict):
            raise GarminNotFound(f"activity {activity_id}: no data")
        return data

    def exercise_sets(self, activity_id: int) -> list[ExerciseSet] | None:
        """None, without a request: the Personal API has no Garmin-edited exercise sets."""
        return None

    def download_fit_zip(self, activity_id: int) -> bytes:
        """The original FIT in its ZIP, refused above the size cap."""
        return self._download(ep.fit_download(activity_id), self.settings.garmin_max_download_bytes)

    # -- wellness ----------------------------------------------------------------------------

    def hrv_day(self, day: date) -> dict[str, Any] | None:
        """One night's HRV as Garmin sends it (None on 204 or an empty body)."""
        return self._json("GET", ep.hrv_day(day))

    def hrv_range(self, start: date, end: date) -> list[HrvNight]:
        """HRV summaries for [start, end], in windows of at most 365 days."""
        out: list[HrvNight] = []
        for lo, hi in date_windows(start, end, ep.HRV_RANGE_MAX_DAYS):
            data = self._json("GET", ep.hrv_range(lo, hi))
            if isinstance(data, dict) and isinstance(data.get("hrvSummaries"), list):
                out.extend(hrv_night(s) for s in data["hrvSummaries"] if isinstance(s, dict))
        return out

    def sleep_day(self, day: date) -> SleepNight | None:
        """The sleep of the night ending on `day` (the DTO at the top level; None without id)."""
        data = self._json("GET", ep.SLEEP_DAY, params={"date": day.isoformat()})
        if not isinstance(data, dict):
            return None
        inner = data.get("dailySleepDTO")
        dto = inner if isinstance(inner, dict) else data
        if dto.get("id") is None:
            return None
        score = ((dto.get("sleepScores") or {}).get("overall") or {}).get("value")
        seconds = dto.get("sleepTimeSeconds")
        return SleepNight(
            sleep_seconds=_int_or_none(seconds),
            sleep_score=_int_or_none(score),
            resting_hr=_number_or_none(dto.get("restingHeartRate")),
        )

    def resting_hr_range(self, start: date, end: date) -> dict[date, float]:
        """Resting HR per calendar day, from the daily summaries (31 days a call)."""
        out: dict[date, float] = {}
        for lo, hi in date_windows(start, end, ep.DAILY_SUMMARIES_MAX_DAYS):
            data = self._json(
                "GET", ep.DAILY_SUMMARIES, params={"startDate": lo.isoformat(), "endDate": hi.isoformat()}
            )
            items = data if isinstance(data, list) else []
            for item in items:
                if not isinstance(item, dict):
                    continue
                value = _number_or_none(item.get("restingHeartRate"))
                day = iso_day(item.get("calendarDate"))
                if value is not None and day is not None:
                    out[day] = value
        return out

    def body_battery_reports(self, start: date, end: date) -> list[BodyBatteryDay]:
        """The highest body-battery level per day, in windows of at most 31 days."""
        out: list[BodyBatteryDay] = []
        for lo, hi in date_windows(start, end, ep.BODY_BATTERY_RANGE_MAX_DAYS):
            data = self._json(
                "GET",
                ep.BODY_BATTERY_REPORTS,
                params={"startDate": lo.isoformat(), "endDate": hi.isoformat()},
            )
            if isinstance(data, list):
                out.extend(d for d in map(body_battery_day, (x for x in data if isinstance(x, dict))) if d)
        return out

    def training_readiness(self, day: date) -> list[ReadinessSnapshot]:
        """`[]`, without a request: the Personal API has no Training Readiness."""
        return []

    # -- writes: none on this API ------------------------------------------------------------

    def _no_writes(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise GarminNotSupported(NO_WRITES)

    create_running_workout = _no_writes
    schedule_workout = _no_writes
    unschedule_workout = _no_writes
    delete_workout = _no_writes
