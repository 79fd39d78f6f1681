"""The Garmin sync end to end: sandbox over real HTTP, garth, the importer, both databases."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from sync.db.models import Activity, GarminAccount, Quarantine, StrengthSet, SyncRun, WellnessDay
from sync.garmin.sandbox.seed import layout_recent, load_fit_folder
from sync.garmin.tokens import DITokens, unseal
from sync.ingest import backfill, sync_account
from tests.garmin_fixtures import SAMPLES, GarminEnv

# Fault handling does not depend on the database: those tests run on SQLite only.
sqlite_only = pytest.mark.parametrize("db_settings", ["sqlite"], indirect=True)


def count(env: GarminEnv, model: type, *where: object) -> int:
    return env.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_full_sync(garmin_env: GarminEnv) -> None:
    env = garmin_env
    athlete = env.athlete()
    account = env.link(athlete)
    env.sandbox.clear_log()
    report = sync_account(env.session, account, env.client(account), settings=env.settings)
    assert report.status == "ok", report.message
    assert report.activities_imported == 4
    assert count(env, Activity, Activity.garmin_activity_id.is_not(None)) >= 4
    garmin_sets = env.session.scalars(select(StrengthSet).where(StrengthSet.source == "garmin")).all()
    assert garmin_sets and report.garmin_sets == len(garmin_sets)
    weighted = [s for s in garmin_sets if s.weight_kg]
    assert weighted and all(s.weight_kg < 500 for s in weighted)  # grams became kg
    assert count(env, StrengthSet, StrengthSet.source == "fit") == 0  # all corrected
    days = count(env, WellnessDay, WellnessDay.athlete_id == athlete.id)
    assert days >= env.settings.garmin_initial_days - 1 and report.wellness_days == days
    # The count the sync reports is every request the server saw.
    assert report.requests == len(env.sandbox.log)
    assert not env.sandbox.requests(r"^/(sso|mobile)/")
    run = env.session.scalars(select(SyncRun)).all()[-1]
    assert run.requests == report.requests and run.status == "ok"
    assert account.activity_cursor is not None and account.wellness_cursor == date.today()
    # The athlete had no HR profile: it came from Garmin's HR zones, before TRIMP was computed.
    assert (athlete.max_hr, athlete.rest_hr) == (185, 42)
    assert len(env.sandbox.requests("heartRateZones")) == 1


@sqlite_only
def test_incremental_sync_rereads_overlap_only(garmin_env: GarminEnv) -> None:
    env = garmin_env
    account = env.link(env.athlete())
    sync_account(env.session, account, env.client(account), settings=env.settings)
    env.sandbox.clear_log()
    second = sync_account(env.session, account, env.client(account), settings=env.settings)
    assert second.status == "ok" and second.activities_imported == 0
    assert not env.sandbox.requests("download-service")  # nothing downloaded twice
    assert len(env.sandbox.requests("activitylist")) == 1
    assert not env.sandbox.requests("heartRateZones")  # the HR profile is known now
    assert len(env.sandbox.requests("trainingreadiness")) == 3  # overlap of 2 days + today
    # A late upload: recorded two days before the newest activity, uploaded after the sync.
    acct = env.sandbox.account
    source = next(s for s in load_fit_folder(SAMPLES) if s.name.startswith("fr110"))
    late = layout_recent([source], acct.newest_first()[0].start.date() - timedelta(days=2))[0]
    late.activity_id = 21_999_000_000
    late.start = late.start.replace(hour=5)
    acct.activities.append(late)
    third = sync_account(env.session, account, env.client(account), settings=env.settings)
    assert third.activities_imported == 1
    assert count(env, Activity, Activity.garmin_activity_id == late.activity_id) == 1


@sqlite_only
def test_truncated_zip_is_quarantined_and_retried(garmin_env: GarminEnv) -> None:
    env = garmin_env
    account = env.link(env.athlete())
    newest = env.sandbox.account.newest_first()[1]
    env.sandbox.faults.add("truncated_zip", f"/download-service/files/activity/{newest.activity_id}")
    first = sync_account(env.session, account, env.client(account), settings=env.settings)
    assert first.status == "partial" and first.activities_quarantined == 1
    assert "truncated" in first.failures[0]
    assert count(env, Quarantine) == 1
    assert account.activity_cursor < newest.start
    second = sync_account(env.session, account, env.client(account), settings=env.settings)
    assert second.status == "ok" and second.activities_imported == 1
    assert count(env, Activity, Activity.garmin_activity_id == newest.activity_id) >= 1
    assert account.activity_cursor >= env.sandbox.account.newest_first()[0].start


@sqlite_only
def test_429_retry_after_is_honoured(garmin_env: GarminEnv) -> None:
    env = garmin_env
    account = env.link(env.athlete())
    env.sandbox.faults.add("status", "activitylist", status=429, retry_after="1")
    first = sync_account(env.session, account, env.client(account), settings=env.settings)
    assert first.status == "rate_limited" and account.status == "rate_limited"
    assert account.rate_limited_until is not None
    env.sandbox.clear_log()
    blocked = sync_account(env.session, account, env.client(account), settings=env.settings)
    assert blocked.status == "rate_limited" and blocked.requests == 0
    assert env.sandbox.log == []  # no request before the time
    time.sleep(max(0.0, (account.rate_limited_until - datetime.now(UTC)).total_seconds()) + 0.05)
    after = sync_account(env.session, account, env.client(account), settings=env.settings)
    assert after.status == "ok" and account.status == "ok" and account.backoff_s == 0
    assert min(r.at for r in env.sandbox.log) >= account.last_sync_at.timestamp() - 60


@sqlite_only
def test_429_without_retry_after_backs_off_longer_each_time(garmin_env: GarminEnv) -> None:
    env = garmin_env
    account = env.link(env.athlete())
    waits = []
    for _ in range(3):
        env.sandbox.faults.add("status", "activitylist", status=429)
        account.rate_limited_until = None
        report = sync_account(env.session, account, env.client(account), settings=env.settings)
        waits.append(report.retry_after_s)
    assert waits == [1.0, 2.0, 4.0]


@sqlite_only
def test_401_after_refresh_marks_needs_reauth(garmin_env: GarminEnv) -> None:
    env = garmin_env
    account = env.link(env.athlete())
    env.sandbox.faults.add("expire_token", "", times=None)
    report = sync_account(env.session, account, env.client(account), settings=env.settings)
    assert report.status == "needs_reauth" and account.status == "needs_reauth"
    env.sandbox.clear_log()
    again = sync_account(env.session, account, env.client(account), settings=env.settings)
    assert again.status == "needs_reauth" and env.sandbox.log == []


def test_di_tokens_refreshed_and_saved_back(garmin_env: GarminEnv) -> None:
    env = garmin_env
    tokens = env.sandbox.issue_di_tokens()
    account = env.link(env.athlete(), tokens)
    env.sandbox.expire_all_tokens()
    report = sync_account(env.session, account, env.client(account), settings=env.settings)
    assert report.status == "ok"
    env.session.expire_all()
    stored = env.session.get(GarminAccount, account.id)
    assert stored is not None and stored.token_kind == "di"
    assert tokens.di_refresh_token.encode() not in stored.tokens_encrypted
    fresh = unseal(env.settings, "di", stored.tokens_encrypted)
    assert isinstance(fresh, DITokens) and fresh.di_refresh_token != tokens.di_refresh_token


@sqlite_only
def test_faults_during_sync_are_survived(garmin_env: GarminEnv) -> None:
    env = garmin_env
    account = env.link(env.athlete())
    env.sandbox.faults.add("status", "download-service", status=503, times=2)
    env.sandbox.faults.add("reset", "dailySleepData", times=1)
    env.sandbox.faults.add("truncate", "hrv-service", times=1)
    report = sync_account(env.session, account, env.client(account), settings=env.settings)
    assert report.status == "ok", report.message
    assert report.activities_imported == 4
    assert report.requests == len(env.sandbox.log) - 1  # all but the link's profile call


def test_backfill_resumes_after_interrupt_without_duplicates(garmin_env: GarminEnv) -> None:
    env = garmin_env
    account = env.link(env.athlete())
    since = date.today() - timedelta(days=40)

    def interrupt(message: str, done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        backfill(env.session, account, env.client(account), since, settings=env.settings, progress=interrupt)
    assert since < account.backfill_cursor < date.today()  # one window done, persisted
    first_rows = count(env, Activity)
    report = backfill(env.session, account, env.client(account), since, settings=env.settings)
    assert report.status == "ok"
    assert account.backfill_cursor == since
    assert count(env, Activity) == first_rows  # the 4 activities are all recent
    assert count(env, WellnessDay) == len({w.date for w in env.session.scalars(select(WellnessDay))})
    assert count(env, WellnessDay) >= 38
    again = backfill(env.session, account, env.client(account), since, settings=env.settings)
    assert again.requests == 0 or again.activities_imported == 0
