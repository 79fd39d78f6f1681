"""A soreness check-in re-pushes the workout at once (issue 21 item 2), whichever way it comes:
the API, the report page's form, an email's one-tap link. Real HTTP to the web server, real
HTTP from it to the Garmin sandbox, both databases; the embedded default pushes in-process, so
legday's EASY run is off the calendar before the request returns.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
import redis
from pydantic import SecretStr

from sync.config import Settings, get_settings
from sync.db.models import Athlete, GarminAccount
from sync.db.session import session_scope
from sync.db.tx import keep_progress
from sync.links.build import base_url, report_link, soreness_links
from sync.scheduling import local_today
from sync.verdicts.policy import record_soreness_and_recompute
from sync.web.api_tokens import issue_token
from sync.web.app import create_app
from sync.workouts.push import push_workout
from testkit import local_http
from testkit.factories import make_athlete
from testkit.garmin_fixtures import GarminEnv
from testkit.helpers import redis_db_url, run_cli
from testkit.report_server import serve


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:300]
    return found.group(1)


def _on_calendar(env: GarminEnv, day: date) -> list[str]:
    """The names of legday's workouts scheduled on `day` in the sandbox's Garmin calendar."""
    names = {w["workoutId"]: w["workoutName"] for w in env.sandbox.account.workouts.values()}
    scheduled = [
        names.get(s["workout"].get("workoutId"), "")
        for s in env.sandbox.account.schedules.values()
        if s["calendarDate"] == day.isoformat()
    ]
    return [name for name in scheduled if name.startswith("legday:")]


def _easy_on_the_watch(env: GarminEnv) -> tuple[Athlete, GarminAccount, date, str]:
    """An athlete with push on whose EASY run of today is on the Garmin calendar."""
    athlete = env.athlete()
    athlete.push_workouts, athlete.max_hr, athlete.rest_hr = True, 185, 45
    account = env.link(athlete)
    day = local_today(athlete.timezone)
    token = issue_token(env.session, athlete)
    env.session.commit()
    # Push off for this first one, so only the explicit push below puts the run on.
    athlete.push_workouts = False
    assert record_soreness_and_recompute(env.session, athlete, day, 5, env.settings).flag == "EASY"
    athlete.push_workouts = True
    env.session.commit()
    result = push_workout(
        env.session,
        athlete,
        day,
        env.client(account),
        settings=env.settings,
        checkpoint=keep_progress(env.session),
    )
    assert result.status == "scheduled"
    assert _on_calendar(env, day) == ["legday: easy 30 min"]
    return athlete, account, day, token


@pytest.mark.parametrize("way", ["api", "page", "email_link"])
def test_a_checkin_takes_the_run_off_the_watch_at_once(garmin_env: GarminEnv, way: str) -> None:
    env = garmin_env
    settings = env.settings.model_copy(update={"report_secret": SecretStr("checkin-secret")})
    assert not settings.redis_url  # the embedded default: the push runs in-process
    athlete, _, day, token = _easy_on_the_watch(env)
    with serve(create_app(settings)) as base, local_http.Client(timeout=30) as client:
        if way == "api":
            r = client.post(
                f"{base}/v1/soreness",
                json={"value": 8, "date": day.isoformat()},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert r.status_code == 200 and r.json()["flag"] == "REST", r.text
        else:
            link = (
                report_link(athlete, day=day, settings=settings, base=base)
                if way == "page"
                else soreness_links(athlete, day, settings=settings).get(8, "")
            )
            link = link.replace(base_url(settings), base)  # the email's links name the public address
            page = client.get(link)
            assert page.status_code == 200, page.text[:300]
            r = client.post(link, data={"value": "8", "csrf": _csrf(page.text)})
            assert r.status_code == 303, r.text[:300]
    # Before the request returned: legday's run is gone from the calendar (REST: no run).
    assert _on_calendar(env, day) == []


def test_the_cli_checkin_re_pushes_too(garmin_env: GarminEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    env = garmin_env
    athlete, _, day, _ = _easy_on_the_watch(env)
    # The CLI reads its settings from the environment: point it at the sandbox and the key.
    monkeypatch.setenv("LEGDAY_GARMIN_BASE_URL", env.sandbox.url)
    monkeypatch.setenv("LEGDAY_GARMIN_MIN_INTERVAL_S", "0")
    monkeypatch.setenv("LEGDAY_SECRET_KEY", env.settings.secret_key.get_secret_value())
    get_settings.cache_clear()
    result = run_cli("soreness", "8", "--athlete", athlete.name, "--date", day.isoformat())
    assert result.exit_code == 0, result.output
    assert "REST" in result.output
    assert _on_calendar(env, day) == []
    get_settings.cache_clear()


def test_with_redis_the_push_task_is_queued_at_commit_never_on_rollback(db_settings: Settings) -> None:
    """A service install: the check-in sends the worker's `push_workout` task by name once its
    transaction commits (so the task reads the new verdict); a rolled-back check-in sends none."""
    settings = db_settings.model_copy(update={"redis_url": redis_db_url(7)})
    broker = redis.Redis.from_url(settings.redis_url)
    broker.flushdb()
    with session_scope(settings) as session:
        athlete = make_athlete(session, "rae")
        athlete.push_workouts = True
        athlete_id, day = athlete.id, local_today("UTC")
    with pytest.raises(RuntimeError), session_scope(settings) as session:
        record_soreness_and_recompute(session, session.get(Athlete, athlete_id), day, 8, settings)
        raise RuntimeError("the request failed after the check-in")
    assert broker.llen(settings.queue) == 0
    with session_scope(settings) as session:
        record_soreness_and_recompute(session, session.get(Athlete, athlete_id), day, 8, settings)
        assert broker.llen(settings.queue) == 0  # not before the commit
    sent = [json.loads(m) for m in broker.lrange(settings.queue, 0, -1)]
    assert [(m["headers"]["task"], m["headers"]["argsrepr"]) for m in sent] == [
        ("worker.tasks.push_workout", repr([athlete_id, day.isoformat()]))
    ]
    broker.flushdb()
