"""A sync task whose work was already done by a killed run still queues the missing verdicts.

Found by bench/soak_crash.py: a worker child SIGKILLed after its sync had committed the
activities and last night's wellness, but before it queued the two verdicts. The redelivered
task found the night stored, ran as the cheap activity check, imported nothing new, and so
queued no verdict: tomorrow's verdict stayed missing until some later sync brought new data.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from sync.athletes import add_athlete
from sync.config import Settings, get_settings
from sync.db.migrate import upgrade
from sync.db.models import Athlete
from sync.db.session import session_scope
from sync.garmin_sync.accounts import add_tokens
from sync.garmin_sync.now import sync_account_now
from sync.scheduling import local_today
from sync.verdicts.compute import compute_verdict


@pytest.fixture
def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox) -> Iterator[Settings]:  # noqa: ANN001
    """An embedded install (SQLite) pointed at the sandbox."""
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("LEGDAY_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("LEGDAY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LEGDAY_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("LEGDAY_GARMIN_BASE_URL", sandbox.url)
    monkeypatch.setenv("LEGDAY_GARMIN_MIN_INTERVAL_S", "0")
    monkeypatch.setenv("LEGDAY_GARMIN_INITIAL_DAYS", "14")
    get_settings.cache_clear()
    settings = get_settings()
    upgrade(settings)
    yield settings
    get_settings.cache_clear()


def test_redelivered_sync_queues_the_verdicts_the_killed_run_never_queued(
    embedded: Settings,
    sandbox,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from worker import tasks

    with session_scope(embedded) as s:
        athlete = add_athlete(s, "ana", email=None, timezone="UTC")
        account_id = add_tokens(s, athlete, sandbox.issue_garth_tokens(), embedded).id
        athlete_id = athlete.id
    # The killed run: all of its work committed, nothing queued after it.
    assert sync_account_now(account_id, settings=embedded).status == "ok"

    queued: list[tuple[int, str]] = []
    monkeypatch.setattr(
        tasks.compute_verdict, "apply_async", lambda args, **_: queued.append((args[0], args[1]))
    )
    # The redelivery: last night is stored and the account was just checked, so Garmin is not
    # asked again (`fresh`), but the verdicts the killed run never queued are.
    assert tasks.sync_account.apply(args=[account_id, True]).get() == "fresh"
    today = local_today("UTC")
    assert sorted(queued) == [
        (athlete_id, today.isoformat()),
        (athlete_id, (today + timedelta(days=1)).isoformat()),
    ]

    # With both verdicts stored, the cheap check stays cheap: nothing is queued.
    with session_scope(embedded) as s:
        ana = s.get(Athlete, athlete_id)
        assert ana is not None
        for day in (today, today + timedelta(days=1)):
            compute_verdict(s, ana, day)
    queued.clear()
    assert tasks.sync_account.apply(args=[account_id, True]).get() == "fresh"
    assert queued == []


class _Retried(Exception):
    """Stands in for Celery's Retry, to see that (and how) the task asked for one."""


def test_a_sync_whose_database_went_away_is_retried_not_dropped(
    embedded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by bench/soak_crash.py (PostgreSQL restarted mid-backfill).

    The run rolled back its unfinished window and the task failed for good: the dispatcher had
    already marked the account's wellness moment, so its wellness waited for the next moment,
    hours later, and the morning email went out without last night.
    """
    from sqlalchemy.exc import OperationalError

    from worker import tasks

    def lost_database(*_args: object, **_kw: object) -> None:
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    asked: list[dict[str, object]] = []

    def retry(**kw: object) -> Exception:
        asked.append(kw)
        return _Retried()

    monkeypatch.setattr(tasks, "sync_account_now", lost_database)
    monkeypatch.setattr(tasks.sync_account, "retry", retry)
    with pytest.raises(_Retried):
        tasks.sync_account.apply(args=[1, True]).get()
    assert len(asked) == 1 and 0 < float(asked[0]["countdown"]) <= tasks.MAX_RETRY_COUNTDOWN_S  # type: ignore[arg-type]


def test_a_verdict_whose_database_went_away_is_retried() -> None:
    from sqlalchemy.exc import OperationalError

    from worker import tasks

    assert OperationalError in tasks.compute_verdict.autoretry_for
