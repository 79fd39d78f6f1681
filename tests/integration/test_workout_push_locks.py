"""Issue 18 item 2: two Garmin calls for one DI account at once never lock the athlete out.

A DI refresh token rotates: two pushes (today's and tomorrow's) that both refresh with the same
one get one refusal, and the account would end `needs_reauth`. Every call that can refresh a
token holds the account's lock; a push that finds it busy is retried later, not dropped.

- PostgreSQL + Redis: a real `legday worker` (prefork, two children) takes both push tasks at
  once, three rounds, each with its own sandbox user whose access token has just expired.
- SQLite (embedded, file locks): two in-process (eager) pushes on two threads at once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from celery import Celery
from cryptography.fernet import Fernet
from sqlalchemy import select

from sync.config import Settings, get_settings
from sync.db.models import GarminAccount, PushedWorkout
from sync.db.session import session_scope
from sync.garmin_sync.accounts import add_tokens
from sync.sandbox import Sandbox, SandboxAccount
from sync.scheduling import local_today
from sync.verdicts.compute import compute_verdict, record_soreness
from testkit.factories import make_athlete, sqlite_only
from testkit.helpers import redis_db_url, wait_for

REDIS_URL = redis_db_url(12)
LEGDAY = str(Path(sys.executable).with_name("legday"))


def _di_athlete(settings: Settings, sandbox: Sandbox, name: str) -> tuple[int, str]:
    """An athlete pushing workouts, linked with DI tokens to a sandbox user of its own, with an
    EASY verdict today and tomorrow; then every access token expires. (athlete id, Garmin user)"""
    user = f"user_{name}"
    sandbox.add_account(SandboxAccount(display_name=user, profile_id=abs(hash(user)) % 10**8))
    with session_scope(settings) as s:
        athlete = make_athlete(s, name, max_hr=188, rest_hr=48)
        athlete.push_workouts = True
        add_tokens(s, athlete, sandbox.issue_di_tokens(user), settings)
        today = local_today(athlete.timezone)
        for day in (today, today + timedelta(days=1)):
            record_soreness(s, athlete, day, 5)  # EASY: a workout to push
            assert str(compute_verdict(s, athlete, day).to_json_dict()["flag"]) == "EASY"
        athlete_id = athlete.id
    sandbox.expire_all_tokens()  # both pushes must refresh: the one rotating refresh token
    return athlete_id, user


def _outcome(settings: Settings, athlete_id: int) -> tuple[str, list[str]]:
    with session_scope(settings) as s:
        account = s.scalars(select(GarminAccount).where(GarminAccount.athlete_id == athlete_id)).one()
        rows = s.scalars(select(PushedWorkout).where(PushedWorkout.athlete_id == athlete_id)).all()
        return account.status, sorted(r.state for r in rows)


def _legday_workouts(sandbox: Sandbox, user: str) -> list[dict]:
    return [w for w in sandbox.accounts[user].workouts.values() if w["workoutName"].startswith("legday:")]


@pytest.fixture
def worker_settings(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox
) -> Iterator[Settings]:
    from tests.conftest import _truncate_all

    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("LEGDAY_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("LEGDAY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LEGDAY_DATABASE_URL", postgres_url)
    monkeypatch.setenv("LEGDAY_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("LEGDAY_GARMIN_BASE_URL", sandbox.url)
    monkeypatch.setenv("LEGDAY_GARMIN_MIN_INTERVAL_S", "0")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()
    _truncate_all(postgres_url)


@pytest.mark.long
def test_two_pushes_at_once_on_two_worker_children_keep_the_di_account(
    worker_settings: Settings, sandbox: Sandbox
) -> None:
    queue = f"legday-t-push-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "LEGDAY_REDIS_URL": REDIS_URL,
        "LEGDAY_QUEUE": queue,
        "LEGDAY_SYNC_QUEUE": queue + "-sync",
        "LEGDAY_LOCK_TTL_S": "3",
        "LEGDAY_LOG_LEVEL": "INFO",
    }
    log = worker_settings.data_dir.parent / "worker.log"
    argv = [LEGDAY, "worker", "--pool", "prefork", "-c", "2", "--", "--without-gossip", "--without-mingle"]
    with open(log, "a") as out:
        worker = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    client = Celery("legday-test", broker=REDIS_URL)
    broker = redis.Redis.from_url(REDIS_URL)
    try:
        assert wait_for(lambda: "ready" in log.read_text(), 60), log.read_text()
        sandbox.faults.latency_ms = 300  # both children are inside the refresh at once
        for round_no in range(3):
            athlete_id, user = _di_athlete(worker_settings, sandbox, f"ana{round_no}")
            today = local_today("UTC")
            for day in (today, today + timedelta(days=1)):
                client.send_task("worker.tasks.push_workout", args=[athlete_id, day.isoformat()], queue=queue)

            def settled(athlete_id: int = athlete_id) -> bool:
                status, states = _outcome(worker_settings, athlete_id)
                return status == "needs_reauth" or states == ["scheduled", "scheduled"]

            assert wait_for(settled, 90), (_outcome(worker_settings, athlete_id), log.read_text()[-3000:])
            assert _outcome(worker_settings, athlete_id) == ("ok", ["scheduled", "scheduled"]), round_no
            assert len(_legday_workouts(sandbox, user)) == 2
            assert not sandbox.requests("/di-oauth2-service", method="POST") or all(
                r.status == 200 for r in sandbox.requests("/di-oauth2-service")
            ), "a refresh was refused"
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        broker.delete(queue)
        broker.close()
        client.close()


@sqlite_only
def test_two_in_process_pushes_at_once_keep_the_di_account(
    db_settings: Settings, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from worker.tasks import push_workout

    monkeypatch.setenv("LEGDAY_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("LEGDAY_GARMIN_BASE_URL", sandbox.url)
    monkeypatch.setenv("LEGDAY_GARMIN_MIN_INTERVAL_S", "0")
    get_settings.cache_clear()
    settings = get_settings()
    athlete_id, user = _di_athlete(settings, sandbox, "bo")
    sandbox.faults.latency_ms = 300
    today = local_today("UTC")
    results: dict[str, str] = {}

    def push(day: str) -> None:
        results[day] = push_workout.apply(args=(athlete_id, day)).get()

    threads = [
        threading.Thread(target=push, args=(d.isoformat(),)) for d in (today, today + timedelta(days=1))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert _outcome(settings, athlete_id) == ("ok", ["scheduled", "scheduled"]), results
    assert sorted(results.values()) == ["scheduled", "scheduled"]
    assert len(_legday_workouts(sandbox, user)) == 2


@pytest.mark.parametrize("db_settings", ["sqlite", "postgresql"], indirect=True)
def test_connecting_new_tokens_waits_for_the_accounts_lock(
    garmin_env,
    monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001 - the GarminEnv fixture
) -> None:
    from sync.garmin_sync import accounts
    from sync.garmin_sync.now import AccountBusy, account_lock

    env = garmin_env
    athlete = env.athlete("cy")
    account = env.link(athlete, env.sandbox.issue_di_tokens())
    env.session.commit()
    monkeypatch.setattr(accounts, "CONNECT_WAIT_S", 0.5)  # a person would wait 30 s
    env.sandbox.clear_log()
    with account_lock(account.id, env.settings) as held:  # a sync or push of the account runs
        assert held
        with pytest.raises(AccountBusy):
            env.link(athlete, env.sandbox.issue_di_tokens())
    assert env.sandbox.requests() == []  # the check that could refresh never left
    env.link(athlete, env.sandbox.issue_di_tokens())  # once it is free, it links
    assert len(env.sandbox.requests("/userprofile-service/socialProfile")) == 1


@pytest.mark.parametrize("db_settings", ["sqlite", "postgresql"], indirect=True)
def test_legday_sync_reads_each_accounts_tokens_once_it_holds_the_lock(
    db_settings: Settings, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`legday sync` loads every account first; a push that rotated one account's refresh token
    meanwhile must not leave the sync holding the dead one (it would end `needs_reauth`)."""
    from sync.workouts.push import push_workout_now
    from testkit.helpers import run_cli

    monkeypatch.setenv("LEGDAY_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("LEGDAY_GARMIN_BASE_URL", sandbox.url)
    monkeypatch.setenv("LEGDAY_GARMIN_MIN_INTERVAL_S", "0")
    monkeypatch.setenv("LEGDAY_GARMIN_INITIAL_DAYS", "7")
    get_settings.cache_clear()
    settings = get_settings()
    first, _ = _di_athlete(settings, sandbox, "ann")  # synced first, slowly
    second, second_user = _di_athlete(settings, sandbox, "ben")
    sandbox.faults.latency_ms = 40
    done: dict[str, object] = {}

    def sync() -> None:
        result = run_cli("sync")
        done["code"], done["out"] = result.exit_code, result.output

    thread = threading.Thread(target=sync)
    thread.start()
    try:
        # While the first account syncs, the second one's push refreshes (and rotates) its tokens.
        assert wait_for(lambda: len(sandbox.requests("/hrv-service|/activitylist-service")) >= 1, 60)
        pushed = push_workout_now(second, local_today("UTC"), settings=settings)
        assert pushed.status == "scheduled", pushed.message
        assert thread.is_alive(), "the first sync ended before the push: nothing was tested"
    finally:
        thread.join(180)
        sandbox.faults.latency_ms = 0
    assert done.get("code") == 0, done.get("out")
    assert _outcome(settings, second)[0] == "ok" and _outcome(settings, first)[0] == "ok"
    assert all(r.status == 200 for r in sandbox.requests("/di-oauth2-service")), "a refresh was refused"
    assert len(_legday_workouts(sandbox, second_user)) == 1
