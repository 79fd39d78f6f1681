"""The sync dispatcher on real Redis marks (DB 10): a new account at once, each due sync once.

The app runs eagerly here (no broker in this process), so every queued sync really runs
against the sandbox; the "already queued" marks live in Redis as in production.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select
from typer.testing import CliRunner

from sync.athletes import add_athlete
from sync.cli import app as cli_app
from sync.config import Settings, get_settings
from sync.db.models import GarminAccount, SyncRun
from sync.db.session import session_scope
from sync.garmin_sync.accounts import add_tokens
from sync.garmin_sync.due import status_rows
from sync.garmin_sync.wellness import night_complete
from sync.scheduling import local_today
from testkit.factories import make_account, make_athlete
from testkit.helpers import redis_db_url
from worker.tasks import dispatch_syncs, sync_account

REDIS_URL = redis_db_url(10)


@pytest.fixture
def service_env(
    db_settings: Settings,
    sandbox,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Settings]:
    monkeypatch.setenv("LEGDAY_GARMIN_BASE_URL", sandbox.url)
    monkeypatch.setenv("LEGDAY_GARMIN_MIN_INTERVAL_S", "0")
    monkeypatch.setenv("LEGDAY_GARMIN_INITIAL_DAYS", "14")
    monkeypatch.setenv("LEGDAY_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("LEGDAY_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("LEGDAY_ACTIVITY_CHECK_INTERVAL_S", "2")
    get_settings.cache_clear()
    settings = get_settings()
    yield settings
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter("legday:due:*"):
        client.delete(key)
    client.close()
    get_settings.cache_clear()


def _utc(moment: datetime | None) -> datetime:
    """A stored moment as aware UTC (SQLite returns it naive)."""
    assert moment is not None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _runs(settings: Settings) -> list[tuple[str, str, int]]:
    with session_scope(settings) as s:
        rows = s.scalars(select(SyncRun).order_by(SyncRun.id)).all()
        return [(r.kind, r.status, r.requests) for r in rows]


def test_new_account_at_once_then_only_cheap_checks(
    service_env: Settings,
    sandbox,  # noqa: ANN001
    caplog: pytest.LogCaptureFixture,
) -> None:
    with session_scope(service_env) as s:
        athlete = add_athlete(s, "ana", email=None, timezone="UTC")
        account_id = add_tokens(s, athlete, sandbox.issue_garth_tokens(), service_env).id
        athlete_id = athlete.id

    with caplog.at_level(logging.INFO, logger="worker.tasks"):
        assert dispatch_syncs.apply().get() == 1  # new: a full sync at once
    assert "dispatch: 1 syncs queued" in caplog.text
    assert [(k, st) for k, st, _ in _runs(service_env)] == [("sync", "ok")]
    # The next check is due one interval (2 s) after the sync began: judged by the moment given, not
    # the wall clock (on a loaded machine the sync alone may take longer than the interval).
    with session_scope(service_env) as s:
        account = s.get(GarminAccount, account_id)
        synced, next_check = (_utc(account.last_sync_at), _utc(account.next_sync_at))
    assert timedelta(0) < next_check - synced <= timedelta(seconds=2)  # synced: when it ended
    before = (next_check - timedelta(seconds=0.5)).isoformat()
    assert dispatch_syncs.apply(kwargs={"now": before}).get() == 0  # nothing is due before it

    later = (next_check + timedelta(seconds=0.2)).isoformat()  # past the check interval
    sandbox.clear_log()
    assert dispatch_syncs.apply(kwargs={"now": later}).get() == 1
    kind, status, requests = _runs(service_env)[-1]
    assert (kind, status) == ("check", "ok")
    # The quiet check: the activity list only, its newest the cursor's; nothing else is read.
    assert requests == len(sandbox.log) == 1, [r.path for r in sandbox.log]
    assert "activitylist" in sandbox.log[0].path
    assert dispatch_syncs.apply(kwargs={"now": later}).get() == 0  # queued once per interval

    # A wellness moment whose night is already stored: nothing at all while the last check is
    # recent (no Garmin request, no run), only the activity check once it is not.
    with session_scope(service_env) as s:
        complete = night_complete(s, athlete_id, local_today("UTC"))
        checked = s.get(GarminAccount, account_id).last_sync_at
    assert complete, "the sandbox's last night should be stored after the first sync"
    runs_before, sandbox_before = len(_runs(service_env)), len(sandbox.log)
    soon = (checked + timedelta(seconds=1)).isoformat()
    assert sync_account.apply(args=[account_id, True, soon]).get() == "fresh"
    assert (len(_runs(service_env)), len(sandbox.log)) == (runs_before, sandbox_before)
    with session_scope(service_env) as s:
        account = s.get(GarminAccount, account_id)
        assert account.next_wellness_at > datetime.fromisoformat(soon)  # the moment is served
        assert account.next_sync_at == checked + timedelta(seconds=2)  # the next check stands
    late = (checked + timedelta(seconds=3)).isoformat()
    assert sync_account.apply(args=[account_id, True, late]).get() == "ok"
    assert _runs(service_env)[-1][0] == "check"

    out = CliRunner().invoke(cli_app, ["status", "--json"])
    assert out.exit_code == 0, out.output
    (row,) = json.loads(out.output)
    assert row["athlete"] == "ana" and row["last_success"] and row["last_wellness"]
    assert row["next_due"] and row["rate_limit_wait_s"] == 0 and row["needs_reauth"] is False


def test_status_shows_rate_limits_and_reauth(db_settings: Settings) -> None:
    settings = db_settings.model_copy(update={"secret_key": SecretStr(Fernet.generate_key().decode())})
    until = datetime.now(UTC) + timedelta(minutes=10)
    with session_scope(settings) as s:
        for name, status in (("ana", "rate_limited"), ("bo", "needs_reauth")):
            limited = until if status == "rate_limited" else None
            make_account(s, make_athlete(s, name), settings, status=status, rate_limited_until=limited)
    with session_scope(settings) as s:
        rows = {r["athlete"]: r for r in status_rows(s, settings, datetime.now(UTC))}
    assert 590 <= rows["ana"]["rate_limit_wait_s"] <= 600
    assert datetime.fromisoformat(rows["ana"]["next_due"]) >= until
    assert rows["ana"]["last_success"] is None and not rows["ana"]["needs_reauth"]
    assert rows["bo"]["needs_reauth"] and rows["bo"]["next_due"] is None


def test_a_worker_keeps_one_client_per_account_until_its_tokens_change(
    service_env: Settings,
    sandbox,  # noqa: ANN001
) -> None:
    from sync.garmin_sync import clients
    from sync.garmin_sync.now import sync_account_now

    with session_scope(service_env) as s:
        athlete = add_athlete(s, "bo", email=None, timezone="UTC")
        account_id = add_tokens(s, athlete, sandbox.issue_garth_tokens(), service_env).id
    key = (service_env.sqlalchemy_url, account_id)

    def kept() -> object:
        with session_scope(service_env) as s:
            return clients.cached(key, s.get(GarminAccount, account_id).tokens_encrypted)

    assert sync_account_now(account_id, settings=service_env).status == "ok"
    first = kept()
    assert first is not None
    assert sync_account_now(account_id, settings=service_env, wellness=False).status == "ok"
    assert kept() is first  # the same client (its connection, its decrypted tokens) again
    with session_scope(service_env) as s:  # new tokens: the next run builds a new client
        add_tokens(s, s.get(GarminAccount, account_id).athlete, sandbox.issue_garth_tokens(), service_env)
    assert kept() is None
    assert sync_account_now(account_id, settings=service_env, wellness=False).status == "ok"
    assert kept() not in (None, first)
