"""Wellness endpoints: HRV, sleep, resting HR, body battery, stress, training readiness."""

from __future__ import annotations

from datetime import date
from typing import Any

from sync.garmin import endpoints as ep
from sync.garmin.records import BodyBatteryDay, HrvNight, ReadinessSnapshot, SleepNight, iso_day
from sync.garmin.transport import Transport
from sync.garmin.windows import date_windows


def hrv_night(summary: dict[str, Any]) -> HrvNight:
    """One entry of `hrvSummaries` as a record."""
    return HrvNight(
        day=iso_day(summary.get("calendarDate")),
        last_night_avg_ms=summary.get("lastNightAvg"),
        weekly_avg_ms=summary.get("weeklyAvg"),
        status=summary.get("status"),
    )


def sleep_night(body: dict[str, Any]) -> SleepNight:
    """A dailySleepData answer as a record."""
    dto = body.get("dailySleepDTO") or {}
    return SleepNight(
        sleep_seconds=dto.get("sleepTimeSeconds"),
        sleep_score=((dto.get("sleepScores") or {}).get("overall") or {}).get("value"),
        resting_hr=body.get("restingHeartRate"),
    )


def body_battery_day(report: dict[str, Any]) -> BodyBatteryDay | None:
    """The day's highest level from one daily report; None without a date or levels."""
    levels = [
        v[1]
        for v in report.get("bodyBatteryValuesArray") or []
        if isinstance(v, list) and len(v) > 1 and isinstance(v[1], int | float)
    ]
    if not (levels and report.get("date")):
        return None
    peak = int(max(levels))
    day = iso_day(str(report["date"]))
    return BodyBatteryDay(day=day, peak=peak) if day is not None else None


def readiness_snapshot(snapshot: dict[str, Any]) -> ReadinessSnapshot:
    """One training-readiness snapshot as a record."""
    return ReadinessSnapshot(
        score=snapshot.get("score"),
        recovery_minutes=snapshot.get("recoveryTime"),
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
        return sleep_night(data) if dto.get("id") is not None else None

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
                    value = float(item["value"])
                    day = iso_day(str(item["calendarDate"]))
                    if day is not None:  # a day not in ISO form is no day the sync asks for
                        out[day] = value
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
        return [readiness_snapshot(s) for s in data] if isinstance(data, list) else []
