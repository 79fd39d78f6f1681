"""Issue 18 item 10: a lost Garmin answer never doubles the workout.

Garmin did the create or the schedule, but its answer was cut short or the connection was reset
(the sandbox's `truncate_after` / `reset_after` faults). The client never sends such a call a
second time blindly: the push looks first (legday's own workouts in the library, the day on the
calendar), so the first attempt or its retry converges on one workout and one calendar entry.
Both databases, real HTTP to the sandbox.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sync.db.models import PushedWorkout
from testkit.factories import sqlite_only
from testkit.garmin_fixtures import GarminEnv
from tests.integration.test_workout_push import legday_workouts, on_calendar, push, setup, store_verdict

CALLS = {"create": r"/workout-service/workout$", "schedule": r"/workout-service/schedule/\d+$"}


@pytest.mark.parametrize("kind", ["truncate_after", "reset_after"])
@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_lost_answer_converges_on_one_workout_and_one_entry(
    garmin_env: GarminEnv, call: str, kind: str
) -> None:
    env = garmin_env
    athlete, account, day = setup(env)
    store_verdict(env, athlete, day, "EASY")
    fault = env.sandbox.faults.add(kind, CALLS[call], method="POST", times=1)
    results = [push(env, athlete, account, day).status]
    if results[-1] != "scheduled":  # the answer was lost and the look came up short: retried
        assert results[-1] == "unavailable", results
        env.session.expire_all()
        results.append(push(env, athlete, account, day).status)
    assert fault.hits == 1
    assert results[-1] == "scheduled", results
    (workout,) = legday_workouts(env)
    (entry,) = on_calendar(env, day)
    assert entry["workout"]["workoutId"] == workout["workoutId"]
    row = env.session.scalars(select(PushedWorkout)).one()
    assert (row.state, row.garmin_workout_id) == ("scheduled", workout["workoutId"])
    assert row.garmin_schedule_id == entry["workoutScheduleId"]
    # Sent once each: the lost call was never sent again blindly.
    assert len(env.sandbox.requests(CALLS[call], method="POST")) == 1
    assert push(env, athlete, account, day).status == "unchanged"


@sqlite_only
def test_a_stale_legday_workout_of_another_day_is_never_adopted(garmin_env: GarminEnv) -> None:
    """The look adopts only a workout no other day of legday's stores."""
    from datetime import timedelta

    env = garmin_env
    athlete, account, day = setup(env)
    other = day - timedelta(days=1)
    store_verdict(env, athlete, other, "EASY")
    store_verdict(env, athlete, day, "EASY")
    assert push(env, athlete, account, other).status == "scheduled"
    env.sandbox.faults.add("reset_after", CALLS["create"], method="POST", times=1)
    statuses = [push(env, athlete, account, day).status]
    if statuses[-1] != "scheduled":
        statuses.append(push(env, athlete, account, day).status)
    assert statuses[-1] == "scheduled"
    rows = {r.date: r for r in env.session.scalars(select(PushedWorkout))}
    assert rows[other].garmin_workout_id != rows[day].garmin_workout_id
    assert len(legday_workouts(env)) == 2 and len(on_calendar(env, day)) == 1 == len(on_calendar(env, other))


@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_call_that_never_reached_garmin_is_sent_again_after_a_look(
    garmin_env: GarminEnv, call: str
) -> None:
    env = garmin_env
    athlete, account, day = setup(env)
    store_verdict(env, athlete, day, "EASY")
    env.sandbox.faults.add("reset", CALLS[call], method="POST", times=1)  # reset before doing it
    assert push(env, athlete, account, day).status == "unavailable"
    row = env.session.scalars(select(PushedWorkout)).one()
    assert row.state == ("creating" if call == "create" else "unsure")  # the retry must look first
    env.session.expire_all()
    env.sandbox.clear_log()
    assert push(env, athlete, account, day).status == "scheduled"
    looked = "/workout-service/workouts" if call == "create" else "/calendar-service/"
    methods = [(r.method, r.path) for r in env.sandbox.requests("workout-service|calendar-service")]
    first_post = next(i for i, (m, _) in enumerate(methods) if m == "POST")
    assert any(looked in p for _, p in methods[:first_post]), methods  # looked before re-sending
    (workout,) = legday_workouts(env)
    assert [e["workout"]["workoutId"] for e in on_calendar(env, day)] == [workout["workoutId"]]
