"""Garmin's JSON shapes (the sandbox templates, copies of real answers) into typed records."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sync.garmin.activities import activity_summary, exercise_set
from sync.garmin.records import ExerciseSet, iso_day
from sync.garmin.wellness import body_battery_day, hrv_night, readiness_snapshot, sleep_night
from sync.sandbox.bodies import TEMPLATES


def _sample(name: str) -> Any:
    return json.loads((TEMPLATES / name).read_text())


def test_activity_list_row() -> None:
    row = activity_summary(_sample("activity_list.json")[0])
    assert row.activity_id == 20000000001
    assert row.start_utc == datetime(2026, 1, 8, 14, 10, 21, tzinfo=UTC)
    assert (row.type_key, row.has_exercise_sets) == ("trail_running", False)


def test_exercise_sets_active_and_rest() -> None:
    active, rest = (
        exercise_set(i, s) for i, s in enumerate(_sample("exercise_sets.json")["exerciseSets"][:2])
    )
    assert active == ExerciseSet(
        index=0,
        active=True,
        category="bench_press",
        category_guesses=("bench_press",),
        exercise="barbell_bench_press",
        reps=10,
        weight_kg=60.0,
        duration_s=41.207,
        start_utc=datetime(2026, 1, 10, 0, 5, 2, tzinfo=UTC),
    )
    assert (rest.active, rest.category, rest.category_guesses, rest.exercise) == (False, None, (), None)
    assert (rest.weight_kg, rest.start_utc) == (None, None)  # weight -1: not entered


def test_exercise_set_guesses_by_probability_and_position_when_no_index() -> None:
    item = {
        "exercises": [
            {"category": "LUNGE", "probability": 20.0},
            {"category": "SQUAT", "name": "X", "probability": 80},
        ],
        "weight": 0,
        "setType": "active",
    }
    s = exercise_set(3, item)
    assert (s.index, s.active, s.category, s.exercise, s.weight_kg) == (3, True, "squat", "x", 0.0)
    assert s.category_guesses == ("squat", "lunge")


def test_wellness_records() -> None:
    night = hrv_night(_sample("hrv_range.json")["hrvSummaries"][0])
    assert (night.day, night.last_night_avg_ms, night.weekly_avg_ms, night.status) == (
        date(2023, 7, 1),
        43,
        43,
        "BALANCED",
    )
    sleep = sleep_night(_sample("sleep_daily.json"))
    assert (sleep.sleep_seconds, sleep.sleep_score, sleep.resting_hr) == (24180, 83, 44)
    snapshots = [readiness_snapshot(s) for s in _sample("training_readiness.json")]
    assert [s.after_wakeup_reset for s in snapshots] == [False, False, False, True, False]
    assert (snapshots[3].score, snapshots[3].recovery_minutes) == (80, 1)
    battery = body_battery_day(
        {"date": "2023-07-01", "bodyBatteryValuesArray": [[1, None], [2, 40], [3, 71.0]]}
    )
    assert battery is not None and (battery.day, battery.peak) == (date(2023, 7, 1), 71)
    assert body_battery_day({"date": "2023-07-01", "bodyBatteryValuesArray": [[1, None]]}) is None


def test_only_the_exact_iso_form_is_a_day() -> None:
    assert iso_day("2023-07-01") == date(2023, 7, 1)
    assert iso_day("20230701") is None and iso_day("2023-7-1") is None and iso_day(None) is None
