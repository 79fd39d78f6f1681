"""The push_workout task: queued after a verdict, retried after a 429 without duplicates."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from sync.config import get_settings
from sync.db.models import PushedWorkout
from sync.scheduling import local_today
from sync.verdicts.compute import record_soreness
from testkit.factories import sqlite_only
from testkit.garmin_fixtures import GarminEnv
from worker.tasks import compute_verdict, push_workout


class Retried(Exception):
    """Stands in for Celery's Retry so the test can see the countdown."""

    def __init__(self, countdown: float) -> None:
        super().__init__(countdown)
        self.countdown = countdown


@pytest.fixture
def task_env(garmin_env: GarminEnv, monkeypatch: pytest.MonkeyPatch) -> GarminEnv:
    """The tasks read settings from the environment: point them at the sandbox too."""
    s = garmin_env.settings
    assert s.secret_key is not None
    monkeypatch.setenv("LEGDAY_GARMIN_BASE_URL", garmin_env.sandbox.url)
    monkeypatch.setenv("LEGDAY_GARMIN_MIN_INTERVAL_S", "0")
    monkeypatch.setenv("LEGDAY_GARMIN_429_BACKOFF_S", "1")
    monkeypatch.setenv("LEGDAY_SECRET_KEY", s.secret_key.get_secret_value())
    get_settings.cache_clear()
    return garmin_env


def workouts(env: GarminEnv) -> list[dict[str, Any]]:
    return [w for w in env.sandbox.account.workouts.values() if w["workoutName"].startswith("legday:")]


@sqlite_only
def test_verdict_task_queues_the_push_and_a_429_is_retried(
    task_env: GarminEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = task_env
    athlete = env.athlete()
    athlete.push_workouts, athlete.max_hr, athlete.rest_hr = True, 185, 45
    env.link(athlete)
    day = local_today(athlete.timezone) + timedelta(days=1)
    record_soreness(env.session, athlete, day, 5)  # EASY
    env.session.commit()
    env.sandbox.faults.add("status", "workout-service", status=429, times=1)
    # Embedded (eager) mode: computing the verdict pushes at once, in-process; the 429 does not
    # fail the verdict (eager runs do not retry: the next verdict pushes again).
    assert compute_verdict.apply(args=(athlete.id, day.isoformat())).get() == "EASY"
    assert not workouts(env)

    def retry(countdown: float, **_: Any) -> Retried:
        return Retried(countdown)

    monkeypatch.setattr(push_workout, "retry", retry)
    # On a worker, the task asks Celery to try again later (the account waits out the 429).
    with pytest.raises(Retried) as info:
        push_workout.run(athlete.id, day.isoformat())
    assert 0 < info.value.countdown <= 600
    env.session.expire_all()
    athlete.accounts[0].rate_limited_until = None  # the wait is over
    env.session.commit()
    assert push_workout.run(athlete.id, day.isoformat()) == "scheduled"
    assert push_workout.run(athlete.id, day.isoformat()) == "unchanged"  # a duplicate delivery
    assert len(workouts(env)) == 1
    row = env.session.scalars(select(PushedWorkout)).one()
    assert row.state == "scheduled" and row.garmin_workout_id == workouts(env)[0]["workoutId"]
