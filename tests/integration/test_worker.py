"""Celery glue: a real worker on a real Redis broker, and the embedded (eager) mode."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from celery.exceptions import Retry
from sqlalchemy import select

from sync.athletes import add_athlete
from sync.config import Settings
from sync.db.models import Activity, GarminAccount, VerdictRecord
from sync.db.session import session_scope
from testkit.celery_worker import FINISHED, in_process_worker
from testkit.helpers import redis_db_url, wait_for
from worker.app import app
from worker.tasks import compute_verdict, dispatch_syncs, dispatch_verdicts, sync_account

REDIS_URL = redis_db_url(15)


@pytest.fixture
def redis_worker() -> Iterator[None]:
    """A real worker on Redis DB 15 and a private queue."""
    with in_process_worker(REDIS_URL):
        yield


def _athlete(settings: Settings, name: str = "ana") -> int:
    with session_scope(settings) as s:
        return add_athlete(s, name, email=None, timezone="Europe/Berlin").id


def _verdicts(settings: Settings) -> list[VerdictRecord]:
    with session_scope(settings) as s:
        return list(s.scalars(select(VerdictRecord)))


def test_worker_on_redis_stores_verdicts_once(db_settings: Settings, redis_worker: None) -> None:
    first, second = _athlete(db_settings, "ana"), _athlete(db_settings, "bo")
    sent = [compute_verdict.delay(athlete_id, "2026-03-10").id for athlete_id in (first, second, first)]
    # A duplicate delivery must not duplicate rows: judged once every task, the duplicate too, ran.
    assert wait_for(lambda: FINISHED.done(*sent), 30), "the worker did not run the tasks in time"
    rows = _verdicts(db_settings)
    assert sorted(r.athlete_id for r in rows) == [first, second]
    assert {r.date for r in rows} == {date(2026, 3, 10)}
    assert all(r.flag == "RUN" and "hrv" in r.payload["unknown"] for r in rows)


def test_embedded_mode_runs_tasks_in_process(db_settings: Settings) -> None:
    assert app.conf.task_always_eager  # no LEGDAY_REDIS_URL: no broker needed
    _athlete(db_settings)
    assert dispatch_verdicts.delay().get() == 2  # a new athlete: today's and tomorrow's
    assert len(_verdicts(db_settings)) == 2
    assert dispatch_verdicts.delay().get() == 0  # nothing changed since


def test_worker_syncs_garmin_then_computes_verdicts(
    db_settings: Settings,
    sandbox,
    redis_worker: None,
    monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
) -> None:
    from cryptography.fernet import Fernet

    from sync.config import get_settings
    from sync.garmin_sync.accounts import add_tokens
    from sync.locks import exclusive

    monkeypatch.setenv("LEGDAY_GARMIN_BASE_URL", sandbox.url)
    monkeypatch.setenv("LEGDAY_GARMIN_MIN_INTERVAL_S", "0")
    monkeypatch.setenv("LEGDAY_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("LEGDAY_REDIS_URL", REDIS_URL)  # the per-account lock lives in Redis
    get_settings.cache_clear()
    settings = get_settings()
    with session_scope(settings) as s:
        athlete = add_athlete(s, "ana", email=None, timezone="UTC")
        account_id = add_tokens(s, athlete, sandbox.issue_garth_tokens(), settings).id

    # While another worker holds the account's lock, a second sync stands aside and is retried
    # once the lease can have lapsed (never acknowledged as done).
    with exclusive(f"sync:{account_id}", settings=settings) as held:
        assert held
        with pytest.raises(Retry) as retry:
            sync_account.apply(args=[account_id]).get()
        assert 1 <= float(retry.value.when) <= settings.lock_ttl_s + 6

    assert dispatch_syncs.apply().get() == 1  # queued on Redis, run by the worker

    def synced() -> bool:
        with session_scope(settings) as s:
            return len(s.scalars(select(VerdictRecord)).all()) == 2

    assert wait_for(synced), "the worker did not sync and compute both verdicts in time"
    with session_scope(settings) as s:
        assert len(s.scalars(select(Activity)).all()) == 5
        assert s.scalars(select(GarminAccount)).one().last_sync_at is not None
