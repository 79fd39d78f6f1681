"""The adapter's plausible ranges (sync/garmin/plausible.py) stay inside the model's bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from sync.garmin import plausible as p
from sync.garmin.wellness import body_battery_day, hrv_night, readiness_snapshot, sleep_night
from sync.readiness import DayContext

NOW = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)
DAY = date(2026, 12, 1)


def _accepted(**context: object) -> bool:
    try:
        DayContext.model_validate({"now": NOW.isoformat(), **context})
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("edge", ["low", "high"])
def test_every_value_the_adapter_keeps_the_model_accepts(edge: str) -> None:
    def at(r: p.Range) -> float:
        return r.low if edge == "low" else r.high

    assert _accepted(hrv_ms={DAY.isoformat(): at(p.HRV_MS)})
    assert _accepted(resting_hr={DAY.isoformat(): at(p.RESTING_HR)})
    assert _accepted(sleep_hours=at(p.SLEEP_SECONDS) / 3600)
    assert _accepted(garmin_recovery_hours=at(p.RECOVERY_MINUTES) / 60)
    assert _accepted(athlete={"max_hr": int(at(p.MAX_HR))})
    assert _accepted(athlete={"rest_hr": int(at(p.ZONE_REST_HR))})


def test_the_records_drop_what_is_out_of_range_and_keep_the_rest() -> None:
    night = hrv_night(
        {"calendarDate": "2026-12-01", "lastNightAvg": -12, "weeklyAvg": 48, "status": "BALANCED"}
    )
    assert (night.last_night_avg_ms, night.weekly_avg_ms, night.status) == (None, 48, "BALANCED")
    sleep = sleep_night(
        {
            "dailySleepDTO": {"sleepTimeSeconds": 90000, "sleepScores": {"overall": {"value": 80}}},
            "restingHeartRate": float("nan"),
        },
        DAY,
    )
    assert (sleep.sleep_seconds, sleep.sleep_score, sleep.resting_hr) == (None, 80, None)
    assert body_battery_day({"date": "2026-12-01", "bodyBatteryValuesArray": [[0, 140]]}) is None
    snap = readiness_snapshot({"score": True, "recoveryTime": -30}, DAY)
    assert (snap.score, snap.recovery_minutes) == (None, None)
    assert not _accepted(sleep_hours=90000 / 3600) and not _accepted(hrv_ms={DAY.isoformat(): -12})
