"""Wellness endpoints: HRV, sleep, resting HR, body battery, stress, training readiness.

Every value in a record is inside its plausible range (sync/garmin/plausible.py) or None: one
bad number is dropped with a logged reason, the day keeps its other values.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sync.garmin import endpoints as ep
from sync.garmin.plausible import HRV_MS, RECOVERY_MINUTES, RESTING_HR, SCORE, SLEEP_SECONDS, kept, kept_int
from sync.garmin.records import BodyBatteryDay, HrvNight, ReadinessSnapshot, SleepNight, iso_day
from sync.garmin.transport import Transport
from sync.garmin.windows import date_windows


def hrv_night(summary: dict[str, Any]) -> HrvNight:
    """One entry of `hrvSummaries` as a record."""
    day = iso_day(summary.get("calendarDate"))
    status = summary.get("status")
    return HrvNight(
        day=day,
        last_night_avg_ms=kept(summary.get("lastNightAvg"), HRV_MS, day),
        weekly_avg_ms=kept(summary.get("weeklyAvg"), HRV_MS, day, "HRV weekly average"),
        status=status if isinstance(status, str) else None,
    )


def sleep_night(body: dict[str, Any], day: date | None = None) -> SleepNight:
    """A dailySleepData answer as a record."""
    dto = body.get("dailySleepDTO") or {}
    score = ((dto.get("sleepScores") or {}).get("overall") or {}).get("value")
    return SleepNight(
        sleep_seconds=kept_int(dto.get("sleepTimeSeconds"), SLEEP_SECONDS, day),
        sleep_score=kept_int(score, SCORE, day, "sleep score"),
        resting_hr=kept(body.get("restingHeartRate"), RESTING_HR, day),
    )


def body_battery_day(report: dict[str, Any]) -> BodyBatteryDay | None:
    """The day's highest level from one daily report; None without a date or levels."""
    day = iso_day(str(report["date"])) if report.get("date") else None
    levels = [
        v[1]
        for v in report.get("bodyBatteryValuesArray") or []
        if isinstance(v, list) and len(v) > 1 and isinstance(v[1], int | float) and not isinstance(v[1], bool)
    ]
    if not levels or day is None:
        return None
    peak = kept_int(max(levels), SCORE, day, "body battery")
    return BodyBatteryDay(day=day, peak=peak) if peak is not None else None


def readiness_snapshot(snapshot: dict[str, Any], day: date | None = None) -> ReadinessSnapshot:
    """One training-readiness snapshot as a record."""
    return ReadinessSnapshot(
        score=kept_int(snapshot.get("score"), SCORE, day, "training readiness"),
        recovery_minutes=kept(snapshot.get("recoveryTime"), RECOVERY_MINUTES, day),
        after_wakeup_reset=snapshot.get("inputContext") == "AFTER_WAKEUP_RESET",
    )


class WellnessCalls(Transport):
    """Calls about the athlete's days and nights."""

    def hrv_day(self, day: date) -> dict[str, Any] | None:
        """One night's HRV as Garmin sends it (None on 204; not read by the sync yet)."""
        return self._json("GET", ep.hrv_day(day))

    def hrv_range(self, start: date, end: date) -> list[HrvNight]:
        """HRV summaries for [start, end], fetched in the widest windows Garmin allows."""
        out: list[HrvNight] = []
        for lo, hi in date_windows(start, end, ep.HRV_RANGE_MAX_DAYS):
            data = self._json("GET", ep.hrv_range(lo, hi))
            if isinstance(data, dict) and isinstance(data.get("hrvSummaries"), list):
                out.extend(hrv_night(s) for s in data["hrvSummaries"])
        return out

    def sleep_day(self, day: date) -> SleepNight | None:
        """The sleep of the night ending on `day` (None when the DTO has no id)."""
        data = self._json("GET", ep.SLEEP_DAY, params={"date": day.isoformat(), "nonSleepBufferMinutes": 60})
        if not isinstance(data, dict):
            return None
        dto = data.get("dailySleepDTO") or {}
        return sleep_night(data, day) if dto.get("id") is not None else None

    def sleep_scores(self, start: date, end: date) -> list[dict[str, Any]]:
        """[{calendarDate, value}] for the range, as Garmin sends them (not read by the sync yet)."""
        out: list[dict[str, Any]] = []
        for lo, hi in date_windows(start, end, 28):
            data = self._json("GET", ep.sleep_scores(lo, hi))
            if isinstance(data, list):
                out.extend(data)
        return out

    def resting_hr_range(self, start: date, end: date) -> dict[date, float]:
        """Resting HR per calendar day for the range."""
        if self.display_name is None:
            self.profile()
        out: dict[date, float] = {}
        for lo, hi in date_windows(start, end, ep.RESTING_HR_RANGE_MAX_DAYS):
            data = self._json(
                "GET",
                ep.resting_hr_range(str(self.display_name)),
                params={
                    "fromDate": lo.isoformat(),
                    "untilDate": hi.isoformat(),
                    "metricId": ep.RESTING_HR_METRIC_ID,
                },
            )
            metrics = (
                (((data or {}).get("allMetrics") or {}).get("metricsMap") or {})
                if isinstance(data, dict)
                else {}
            )
            for item in metrics.get("WELLNESS_RESTING_HEART_RATE") or []:
                if item.get("value") is not None and item.get("calendarDate"):
                    day = iso_day(str(item["calendarDate"]))
                    value = kept(item["value"], RESTING_HR, day)
                    if day is not None and value is not None:  # a day not in ISO form: not asked for
                        out[day] = float(value)
        return out

    def body_battery_reports(self, start: date, end: date) -> list[BodyBatteryDay]:
        """The highest body-battery level per day for the range (days without levels left out)."""
        out: list[BodyBatteryDay] = []
        for lo, hi in date_windows(start, end, ep.BODY_BATTERY_RANGE_MAX_DAYS):
            data = self._json(
                "GET",
                ep.BODY_BATTERY_REPORTS,
                params={"startDate": lo.isoformat(), "endDate": hi.isoformat()},
            )
            if isinstance(data, list):
                out.extend(d for d in map(body_battery_day, data) if d is not None)
        return out

    def daily_stress(self, day: date) -> dict[str, Any] | None:
        """Stress and body battery samples of one day (None on `null`; not read by the sync yet)."""
        data = self._json("GET", ep.daily_stress(day))
        return data if isinstance(data, dict) else None

    def training_readiness(self, day: date) -> list[ReadinessSnapshot]:
        """Readiness snapshots of one day, newest first (`[]` when none)."""
        data = self._json("GET", ep.training_readiness(day))
        if not isinstance(data, list):
            return []
        return [readiness_snapshot(s, day) for s in data if isinstance(s, dict)]
