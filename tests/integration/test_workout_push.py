"""Putting the prescribed run on the watch: through garth against the sandbox, both databases."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests
from pydantic import SecretStr
from sqlalchemy import select

from sync.config import Settings
from sync.db.models import Athlete, GarminAccount, PushedWorkout
from sync.db.session import session_scope
from sync.db.tx import keep_progress
from sync.demo import run_demo
from sync.garmin.errors import GarminBadResponse
from sync.links.build import report_link
from sync.notify.compose import daily_message
from sync.sandbox.bodies import TEMPLATES
from sync.scheduling import local_today
from sync.verdicts.compute import compute_verdict, record_soreness
from sync.web.app import create_app
from sync.workouts.push import PushResult, push_workout
from testkit import local_http
from testkit.factories import make_verdict, postgres_only, sqlite_only
from testkit.garmin_fixtures import SAMPLES, GarminEnv
from testkit.helpers import run_cli
from testkit.report_server import serve


def store_verdict(env: GarminEnv, athlete: Athlete, day: date, flag: str, minutes: int = 30) -> None:
    """A stored verdict as compute_verdict leaves it (only what the push reads matters), committed."""
    make_verdict(env.session, athlete, day, flag, minutes=minutes)
    env.session.commit()


def setup(env: GarminEnv) -> tuple[Athlete, GarminAccount, date]:
    athlete = env.athlete()
    athlete.push_workouts = True
    account = env.link(athlete)
    env.session.commit()
    return athlete, account, local_today(athlete.timezone) + timedelta(days=1)


def push(env: GarminEnv, athlete: Athlete, account: GarminAccount, day: date, **kw: Any) -> PushResult:
    kw.setdefault("checkpoint", keep_progress(env.session))  # as push_workout_now does
    return push_workout(env.session, athlete, day, env.client(account), settings=env.settings, **kw)


def on_calendar(env: GarminEnv, day: date) -> list[dict]:
    return [s for s in env.sandbox.account.schedules.values() if s["calendarDate"] == day.isoformat()]


def legday_workouts(env: GarminEnv) -> list[dict]:
    return [w for w in env.sandbox.account.workouts.values() if w["workoutName"].startswith("legday:")]


def athletes_own(env: GarminEnv, account: GarminAccount, day: date) -> tuple[int, int]:
    """The athlete builds and schedules a workout of their own in Connect."""
    client = env.client(account)
    own = client.create_workout(json.loads((TEMPLATES / "workout_create_request.json").read_text()))
    return own["workoutId"], client.schedule_workout(own["workoutId"], day).schedule_id


def test_easy_creates_and_schedules_one_workout(garmin_env: GarminEnv) -> None:
    env = garmin_env
    athlete, account, day = setup(env)
    store_verdict(env, athlete, day, "EASY")
    env.sandbox.clear_log()
    result = push(env, athlete, account, day)
    assert result.status == "scheduled", result.message
    assert result.name == "legday: easy 30 min"
    assert [r.method for r in env.sandbox.requests("workout-service")] == ["POST", "POST"]
    (workout,) = legday_workouts(env)
    (entry,) = on_calendar(env, day)
    assert entry["workout"]["workoutId"] == workout["workoutId"]
    sent = env.sandbox.account.workout_requests[workout["workoutId"]]
    assert sent["sportType"]["sportTypeKey"] == "running" and sent["estimatedDurationInSecs"] == 30 * 60
    warm, run, cool = sent["workoutSegments"][0]["workoutSteps"]
    assert warm["stepType"]["stepTypeKey"] == "warmup" and warm["endConditionValue"] == 600
    assert warm["targetType"]["workoutTargetTypeKey"] == "no.target"
    assert run["stepType"]["stepTypeKey"] == "interval" and run["endConditionValue"] == 20 * 60
    assert run["endCondition"]["conditionTypeKey"] == "time"
    assert run["targetType"]["workoutTargetTypeId"] == 4  # heart rate
    assert run["targetValueTwo"] == 142 and run["targetValueOne"] < 142  # the cap is the upper bound
    assert cool["stepType"]["stepTypeKey"] == "cooldown"
    assert cool["endCondition"]["conditionTypeKey"] == "lap.button"
    row = env.session.scalars(select(PushedWorkout)).one()
    assert row.garmin_workout_id == workout["workoutId"]
    assert row.garmin_schedule_id == entry["workoutScheduleId"]
    # A second run (a recomputed verdict, a retried task) changes nothing and asks Garmin nothing.
    env.sandbox.clear_log()
    again = push(env, athlete, account, day)
    assert again.status == "unchanged" and not env.sandbox.requests("workout-service")
    assert len(legday_workouts(env)) == 1 and len(on_calendar(env, day)) == 1


def test_rest_removes_only_legdays_workout(garmin_env: GarminEnv) -> None:
    env = garmin_env
    athlete, account, day = setup(env)
    own_id, own_schedule = athletes_own(env, account, day)
    store_verdict(env, athlete, day, "EASY")
    assert push(env, athlete, account, day).status == "scheduled"
    assert len(on_calendar(env, day)) == 2
    store_verdict(env, athlete, day, "REST")
    assert push(env, athlete, account, day).status == "removed"
    assert not legday_workouts(env)
    assert [s["workoutScheduleId"] for s in on_calendar(env, day)] == [own_schedule]
    assert own_id in env.sandbox.account.workouts  # the athlete's own workout is untouched
    assert env.session.scalars(select(PushedWorkout.state)).one() == "removed"
    # RUN (or REST again) pushes nothing.
    store_verdict(env, athlete, day, "RUN")
    env.sandbox.clear_log()
    assert push(env, athlete, account, day).status == "nothing"
    assert not env.sandbox.requests("workout-service")


@sqlite_only
def test_changed_prescription_replaces_legdays_workout(garmin_env: GarminEnv) -> None:
    env = garmin_env
    athlete, account, day = setup(env)
    store_verdict(env, athlete, day, "EASY", minutes=30)
    push(env, athlete, account, day)
    store_verdict(env, athlete, day, "EASY", minutes=40)
    result = push(env, athlete, account, day)
    assert result.status == "scheduled" and result.name == "legday: easy 40 min"
    (workout,) = legday_workouts(env)
    assert workout["workoutName"] == "legday: easy 40 min"
    assert [s["workout"]["workoutId"] for s in on_calendar(env, day)] == [workout["workoutId"]]


@sqlite_only
@pytest.mark.parametrize("call", ["workout-service/workout$", "workout-service/schedule/"])
def test_429_is_retried_later_without_duplicates(garmin_env: GarminEnv, call: str) -> None:
    env = garmin_env
    athlete, account, day = setup(env)
    store_verdict(env, athlete, day, "EASY")
    env.sandbox.faults.add("status", call, status=429, method="POST")
    first = push(env, athlete, account, day)
    assert first.status == "rate_limited" and first.retry_after_s
    assert account.rate_limited_until is not None
    row = env.session.scalars(select(PushedWorkout)).one()
    assert row.state == "pending" and row.garmin_schedule_id is None and "429" in (row.error or "")
    # Until the wait is over, a retry makes no request at all.
    env.sandbox.clear_log()
    assert push(env, athlete, account, day).status == "rate_limited" and not env.sandbox.log
    later = datetime.now(UTC) + timedelta(hours=1)
    assert push(env, athlete, account, day, now=later).status == "scheduled"
    assert len(legday_workouts(env)) == 1 and len(on_calendar(env, day)) == 1
    assert len(env.sandbox.requests(r"workout-service/workout$")) <= 1  # never a second create


@postgres_only
def test_two_workers_create_one_workout(garmin_env: GarminEnv) -> None:
    env = garmin_env
    athlete, account, day = setup(env)
    store_verdict(env, athlete, day, "EASY")
    env.sandbox.faults.latency_ms = 50  # keep the first push inside Garmin while the second starts
    results: list[str] = []

    def worker() -> None:
        with session_scope(env.settings) as session:
            me = session.get(Athlete, athlete.id)
            acct = session.get(GarminAccount, account.id)
            assert me is not None and acct is not None
            from sync.garmin_sync import open_client

            client = open_client(session, acct, env.settings, checkpoint=keep_progress(session))
            results.append(
                push_workout(
                    session, me, day, client, settings=env.settings, checkpoint=keep_progress(session)
                ).status
            )

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    # The second either waited for the whole push ("unchanged") or took over after the create
    # was committed and scheduled that same workout; never a second one.
    assert len(results) == 2 and set(results) <= {"scheduled", "unchanged"}
    assert len(legday_workouts(env)) == 1 and len(on_calendar(env, day)) == 1


@sqlite_only
def test_push_is_opt_in_and_skips_past_days(garmin_env: GarminEnv) -> None:
    env = garmin_env
    athlete, account, day = setup(env)
    store_verdict(env, athlete, day, "EASY")
    athlete.push_workouts = False
    assert push(env, athlete, account, day).status == "skipped"
    athlete.push_workouts = True
    yesterday = day - timedelta(days=2)
    store_verdict(env, athlete, yesterday, "EASY")
    assert push(env, athlete, account, yesterday).status == "skipped"
    assert not env.sandbox.requests("workout-service")


@sqlite_only
def test_sandbox_rejects_invalid_workouts_like_garmin(garmin_env: GarminEnv) -> None:
    env = garmin_env
    client = env.client(env.link(env.athlete()))
    good = json.loads((TEMPLATES / "workout_create_request.json").read_text())
    bad_bodies = []
    for mutate in (
        lambda b: b.pop("workoutName"),
        lambda b: b.update(workoutSegments=[]),
        lambda b: b["workoutSegments"][0]["workoutSteps"][0]["stepType"].update(stepTypeId=42),
        lambda b: b["workoutSegments"][0]["workoutSteps"][1]["targetType"].update(workoutTargetTypeId=99),
        lambda b: b["workoutSegments"][0]["workoutSteps"][1].pop("zoneNumber"),  # HR target, no zone
        lambda b: b["workoutSegments"][0]["workoutSteps"][0].update(type="StepDTO"),
        lambda b: b["workoutSegments"][0]["workoutSteps"][0].pop("endConditionValue"),
    ):
        body = json.loads(json.dumps(good))
        mutate(body)
        bad_bodies.append(body)
    for body in bad_bodies:
        with pytest.raises(GarminBadResponse) as info:
            client.create_workout(body)
        assert info.value.status == 400
    token = env.sandbox.issue_garth_tokens().oauth2["access_token"]
    reply = requests.post(
        env.sandbox.url + "/workout-service/workout",
        json=bad_bodies[0],
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert reply.status_code == 400
    assert reply.json() == {"message": "HTTP 400 Bad Request", "error": "BadRequestException"}
    assert not env.sandbox.account.workouts


def test_cli_switches_push_on_and_off(db_settings: Settings) -> None:
    assert run_cli("athlete", "add", "dee", "--timezone", "Europe/Paris").exit_code == 0

    def push_on() -> bool:
        with session_scope(db_settings) as session:
            return session.scalars(select(Athlete.push_workouts).where(Athlete.name == "dee")).one()

    assert push_on() is False  # off by default
    result = run_cli("athlete", "set", "dee", "--push-workouts", "on")
    assert result.exit_code == 0, result.output
    assert push_on() is True
    assert run_cli("athlete", "set", "dee", "--max-hr", "180").exit_code == 0 and push_on() is True
    assert run_cli("athlete", "set", "dee", "--push-workouts", "off").exit_code == 0
    assert push_on() is False
    assert run_cli("athlete", "set", "dee", "--push-workouts", "maybe").exit_code == 2


@sqlite_only
def test_email_says_when_the_run_is_on_the_watch(garmin_env: GarminEnv) -> None:
    env = garmin_env
    athlete, account, day = setup(env)
    athlete.email, athlete.max_hr, athlete.rest_hr = "runner@example.org", 185, 45
    record_soreness(env.session, athlete, day, 5)  # sore legs: EASY
    assert compute_verdict(env.session, athlete, day).flag == "EASY"
    env.session.commit()
    assert push(env, athlete, account, day).status == "scheduled"

    def email_parts() -> tuple[str, str]:
        message = daily_message(env.session, athlete, day, datetime.now(UTC), env.settings)
        text, html = (part.get_content() for part in message.iter_parts())
        return text, html

    text, html = email_parts()
    for part in (text, html):
        assert "On your watch:" in part and "legday: easy 30 min" in part
        assert "heart rate 118-143 bpm" in part
    configured = env.settings.model_copy(update={"report_secret": SecretStr("workout-report-secret")})
    with serve(create_app(configured)) as base:  # the report page says it too
        page = local_http.get(report_link(athlete, day=day, settings=configured, base=base), timeout=10)
    assert page.status_code == 200 and 'id="on-watch"' in page.text and "legday: easy 30 min" in page.text
    record_soreness(env.session, athlete, day, 8)  # can barely walk: REST
    compute_verdict(env.session, athlete, day)
    env.session.commit()
    assert push(env, athlete, account, day).status == "removed"
    text, html = email_parts()
    assert "On your watch" not in text and "On your watch" not in html


def test_demo_pushes_the_workout(settings: Settings) -> None:
    result = run_demo(settings, SAMPLES)
    assert result.verdict is not None and result.push is not None and result.day is not None
    if result.verdict.flag == "EASY":
        assert result.push.status == "scheduled" and result.push.name.startswith("legday: easy")
        assert result.push.steps[0].startswith("warm-up") and result.push.steps[-1].startswith("cool-down")
        with session_scope(settings) as session:
            row = session.scalars(select(PushedWorkout)).one()
            assert (row.date, row.state) == (result.day, "scheduled")
    else:
        assert result.push.status == "nothing"


@sqlite_only
def test_schedule_without_an_answer_looks_before_scheduling_again(garmin_env: GarminEnv) -> None:
    """A schedule call that got no usable answer may have worked: the retry must not add a second
    calendar entry, so it looks at the day on the calendar first; not there, it schedules the
    same workout (issue 18 item 10; test_workout_lost_answers.py has the lost answers)."""
    env = garmin_env
    athlete, account, day = setup(env)
    store_verdict(env, athlete, day, "EASY")
    fault = env.sandbox.faults.add("status", "workout-service/schedule/", status=503, times=None)
    assert push(env, athlete, account, day).status == "unavailable"
    row = env.session.scalars(select(PushedWorkout)).one()
    first_id = row.garmin_workout_id
    assert row.state == "unsure" and first_id is not None
    env.sandbox.faults.clear()
    assert fault.hits >= 1
    assert push(env, athlete, account, day).status == "scheduled"
    (workout,) = legday_workouts(env)
    assert workout["workoutId"] == first_id and len(on_calendar(env, day)) == 1
