"""The Garmin sync end to end: sandbox over real HTTP, garth, the importer, both databases."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from sync.db.models import (
    Activity,
    Athlete,
    GarminAccount,
    Quarantine,
    StrengthSet,
    SyncRun,
    WellnessDay,
)
from sync.db.tx import keep_progress
from sync.fit import decode_fit
from sync.garmin.tokens import DITokens, unseal
from sync.garmin.windows import date_windows
from sync.garmin_sync import WELLNESS_WINDOW_DAYS, backfill, sync_account
from sync.sandbox.seed import FIRST_ACTIVITY_ID, layout_recent, load_fit_folder, place
from testkit.factories import sqlite_only
from testkit.garmin_fixtures import SAMPLES, GarminEnv

# Fault handling does not depend on the database: those tests run on SQLite only.


def count(env: GarminEnv, model: type, *where: object) -> int:
    return env.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def local_today(athlete: Athlete) -> date:
    """The athlete's date now (what the sync calls "today"), not the machine's."""
    return datetime.now(ZoneInfo(athlete.timezone)).date()


def inside_sets_refresh(env: GarminEnv) -> datetime:
    """A moment when only the newest session is within `garmin_sets_refresh_h` (30 h).

    The sandbox puts one recording per day, the newest yesterday at its recorded time of day:
    with the wall clock, whether it is still inside the window would depend on the hour the
    test runs. 12 h before the window closes on it, the session a day older is 42 h old.
    """
    newest = env.sandbox.account.newest_first()[0].start
    return newest + timedelta(hours=env.settings.garmin_sets_refresh_h - 12)


def sets_of(env: GarminEnv, garmin_id: int) -> dict[int, StrengthSet]:
    """The stored strength sets of one Garmin activity, by set index."""
    rows = env.session.scalars(
        select(StrengthSet)
        .join(Activity, Activity.id == StrengthSet.activity_id)
        .where(Activity.garmin_activity_id == garmin_id)
    ).all()
    return {r.set_index: r for r in rows}


def test_full_sync(garmin_env: GarminEnv) -> None:
    env = garmin_env
    athlete = env.athlete()
    account = env.link(athlete)
    env.sandbox.clear_log()
    report = env.sync(account)
    assert report.status == "ok", report.message
    assert report.activities_imported == 4
    assert count(env, Activity, Activity.garmin_activity_id.is_not(None)) >= 4
    garmin_sets = env.session.scalars(select(StrengthSet).where(StrengthSet.source == "garmin")).all()
    assert garmin_sets and report.garmin_sets == len(garmin_sets)
    weighted = [s for s in garmin_sets if s.weight_kg]
    assert weighted and all(s.weight_kg < 500 for s in weighted)  # grams became kg
    assert count(env, StrengthSet, StrengthSet.source == "fit") == 0  # all corrected
    days = count(env, WellnessDay, WellnessDay.athlete_id == athlete.id)
    # Every generated day in the first sync's window arrived (the sandbox leaves about one
    # night in 25 without data, so the exact number depends on the date).
    today = env.sandbox.clock.today("UTC")
    window = [today - timedelta(days=i) for i in range(env.settings.garmin_initial_days + 1)]
    served = sum(1 for d in window if env.sandbox.account.wellness_day(d, today) is not None)
    assert days == served and served >= env.settings.garmin_initial_days - 5
    assert report.wellness_days == days
    # The count the sync reports is every request the server saw.
    assert report.requests == len(env.sandbox.log)
    assert not env.sandbox.requests(r"^/(sso|mobile)/")
    run = env.session.scalars(select(SyncRun)).all()[-1]
    assert run.requests == report.requests and run.status == "ok"
    assert account.activity_cursor is not None and account.wellness_cursor == local_today(athlete)
    # The athlete had no HR profile: it came from Garmin's HR zones, before TRIMP was computed.
    assert (athlete.max_hr, athlete.rest_hr) == (185, 42)
    assert len(env.sandbox.requests("heartRateZones")) == 1


@sqlite_only
def test_incremental_sync_rereads_overlap_only(garmin_env: GarminEnv) -> None:
    env = garmin_env
    account = env.link(env.athlete())
    moment = inside_sets_refresh(env)
    env.sync(account, now=moment)
    env.sandbox.clear_log()
    second = env.sync(account, now=moment)
    assert second.status == "ok" and second.activities_imported == 0
    assert not env.sandbox.requests("download-service")  # nothing downloaded twice
    assert len(env.sandbox.requests("activitylist")) == 1
    assert not env.sandbox.requests("heartRateZones")  # the HR profile is known now
    # The overlap's past days have their sleep and readiness stored: only today is read per day
    # (HRV, resting HR and body battery refresh the whole overlap with one range call each).
    assert len(env.sandbox.requests("trainingreadiness")) == 1
    assert len(env.sandbox.requests("dailySleepData")) == 1
    assert len(env.sandbox.requests("hrv/daily")) == 1
    # Both strength sessions lie inside the overlap; only the one of the last
    # `garmin_sets_refresh_h` (30 h) has its sets read again: relabels come soon after a session.
    assert len(env.sandbox.requests("exerciseSets")) == 1
    env.sandbox.clear_log()
    wider = env.settings.model_copy(update={"garmin_sets_refresh_h": 24 * 7})
    env.sync(account, settings=wider, now=moment)
    assert len(env.sandbox.requests("exerciseSets")) == 2  # a wider window: both again
    # A late upload: recorded two days before the newest activity, uploaded after the sync.
    acct = env.sandbox.account
    source = next(s for s in load_fit_folder(SAMPLES) if s.name.startswith("fr110"))
    late = layout_recent([source], acct.newest_first()[0].start.date() - timedelta(days=2))[0]
    late.activity_id = 21_999_000_000
    late.start = late.start.replace(hour=5)
    acct.activities.append(late)
    third = env.sync(account, now=moment)
    assert third.activities_imported == 1
    assert count(env, Activity, Activity.garmin_activity_id == late.activity_id) == 1


@sqlite_only
def test_truncated_zip_is_quarantined_and_retried(garmin_env: GarminEnv) -> None:
    env = garmin_env
    account = env.link(env.athlete())
    newest = env.sandbox.account.newest_first()[1]
    env.sandbox.faults.add("truncated_zip", f"/download-service/files/activity/{newest.activity_id}")
    first = env.sync(account)
    assert first.status == "partial" and first.activities_quarantined == 1
    assert "truncated" in first.failures[0]
    assert count(env, Quarantine) == 1
    # A cut-short download is not refused for good: no Garmin id on its quarantine record.
    assert env.session.scalars(select(Quarantine.garmin_activity_id)).one() is None
    assert account.activity_cursor < newest.start
    second = env.sync(account)
    assert second.status == "ok" and second.activities_imported == 1
    assert count(env, Activity, Activity.garmin_activity_id == newest.activity_id) >= 1
    assert account.activity_cursor >= env.sandbox.account.newest_first()[0].start


@sqlite_only
def test_429_retry_after_is_honoured(garmin_env: GarminEnv) -> None:
    env = garmin_env
    account = env.link(env.athlete())
    env.sandbox.faults.add("status", "activitylist", status=429, retry_after="1")
    first = env.sync(account)
    assert first.status == "rate_limited" and account.status == "rate_limited"
    assert account.rate_limited_until is not None
    env.sandbox.clear_log()
    blocked = env.sync(account)
    assert blocked.status == "rate_limited" and blocked.requests == 0
    assert env.sandbox.log == []  # no request before the time
    # Move the clock past the wait instead of sleeping through it.
    later = account.rate_limited_until + timedelta(milliseconds=50)
    after = env.sync(account, now=later)
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
        report = env.sync(account)
        waits.append(report.retry_after_s)
    assert waits == [1.0, 2.0, 4.0]


@sqlite_only
def test_401_after_refresh_marks_needs_reauth(garmin_env: GarminEnv) -> None:
    env = garmin_env
    account = env.link(env.athlete())
    env.sandbox.faults.add("expire_token", "", times=None)
    report = env.sync(account)
    assert report.status == "needs_reauth" and account.status == "needs_reauth"
    env.sandbox.clear_log()
    again = env.sync(account)
    assert again.status == "needs_reauth" and env.sandbox.log == []


def test_di_tokens_refreshed_and_saved_back(garmin_env: GarminEnv) -> None:
    env = garmin_env
    tokens = env.sandbox.issue_di_tokens()
    account = env.link(env.athlete(), tokens)
    env.sandbox.expire_all_tokens()
    report = env.sync(account)
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
    report = env.sync(account)
    assert report.status == "ok", report.message
    assert report.activities_imported == 4
    assert report.requests == len(env.sandbox.log) - 1  # all but the link's profile call


@sqlite_only
def test_label_changed_in_connect_after_first_sync_arrives(garmin_env: GarminEnv) -> None:
    env = garmin_env
    account = env.link(env.athlete())
    moment = inside_sets_refresh(env)
    env.sync(account, now=moment)
    legs = env.sandbox.account.newest_first()[0]
    assert legs.is_strength
    index = next(s.index for s in legs.sets if s.set_type == "active" and s.category == "unknown")
    assert sets_of(env, legs.activity_id)[index].category == "unknown"
    # The athlete names the set in Connect after the first sync.
    env.sandbox.edit_exercise_sets(legs.activity_id, {index: ("squat", "barbell_back_squat")})
    env.sandbox.clear_log()
    second = env.sync(account, now=moment)
    assert second.status == "ok" and second.activities_imported == 0
    assert not env.sandbox.requests("download-service")  # known: only the sets are read again
    assert len(env.sandbox.requests(f"/activity/{legs.activity_id}/exerciseSets")) == 1
    env.session.expire_all()
    row = sets_of(env, legs.activity_id)[index]
    assert (row.category, row.exercise, row.source) == ("squat", "barbell_back_squat", "garmin")
    assert row.lower_body > 0 and "quadriceps" in row.muscle_groups


@sqlite_only
def test_sets_garmin_no_longer_lists_are_removed(garmin_env: GarminEnv) -> None:
    env = garmin_env
    account = env.link(env.athlete())
    strength = env.sandbox.account.newest_first()[1]
    assert strength.is_strength and len(strength.sets) > 6
    # Deleted in Connect before legday ever saw the activity: the FIT still has them.
    env.sandbox.edit_exercise_sets(strength.activity_id, delete=[2, 3])
    env.sync(account)
    stored = sets_of(env, strength.activity_id)
    assert 2 not in stored and 3 not in stored
    assert len(stored) == len(strength.sets) - 2
    assert {r.source for r in stored.values()} == {"garmin"}
    # Deleted after the first sync (inside the overlap and the sets' refresh window, widened
    # here to reach this session): the earlier Garmin row goes too.
    env.sandbox.edit_exercise_sets(strength.activity_id, delete=[4])
    wider = env.settings.model_copy(update={"garmin_sets_refresh_h": 24 * 7})
    env.sync(account, settings=wider)
    env.session.expire_all()
    stored = sets_of(env, strength.activity_id)
    assert 4 not in stored and len(stored) == len(strength.sets) - 3


@sqlite_only
def test_unexpected_error_is_recorded_as_failed_and_raised(garmin_env: GarminEnv) -> None:
    env = garmin_env
    account = env.link(env.athlete())
    client = env.client(account)

    def broken(activity_id: int) -> bytes:
        raise RuntimeError("a bug in the download path")

    client.download_fit_zip = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="a bug"):
        sync_account(
            env.session, account, client, settings=env.settings, checkpoint=keep_progress(env.session)
        )
    run = env.session.scalars(select(SyncRun).order_by(SyncRun.id)).all()[-1]
    assert run.status == "failed" and "RuntimeError" in (run.summary.get("message") or "")
    assert run.finished_at is not None and run.requests > 0


def test_backfill_resumes_after_interrupt_without_duplicates(garmin_env: GarminEnv) -> None:
    env = garmin_env
    athlete = env.athlete()
    account = env.link(athlete)
    today = env.sandbox.clock.today(athlete.timezone)
    since = today - timedelta(days=3 * WELLNESS_WINDOW_DAYS - 1)
    windows = date_windows(since, today, WELLNESS_WINDOW_DAYS)
    assert len(windows) == 3
    # Two recordings in every backfill window (a strength session among them each time).
    sources = load_fit_folder(SAMPLES)
    pairs = [(sources[0], sources[2]), (sources[1], sources[3]), (sources[2], sources[0])]
    placed = []
    for (lo, _), pair in zip(windows, pairs, strict=True):
        for k, source in enumerate(pair):
            placed.append(place(source, lo + timedelta(days=3 + 10 * k), FIRST_ACTIVITY_ID + len(placed)))
    env.sandbox.account.activities = placed
    sessions = {a.activity_id: len(decode_fit(a.fit).sessions) for a in placed}
    middle = [a.activity_id for a in placed[2:4]]
    newest = [a.activity_id for a in placed[4:]]

    client = env.client(account)
    real_download = client.download_fit_zip
    started: list[int] = []

    def interrupted(activity_id: int) -> bytes:
        # Ctrl-C in the middle window, after one of its activities was imported.
        if activity_id in middle:
            started.append(activity_id)
            if len(started) == 2:
                raise KeyboardInterrupt
        return real_download(activity_id)

    client.download_fit_zip = interrupted  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        backfill(
            env.session,
            account,
            client,
            since,
            settings=env.settings,
            today=today,
            checkpoint=keep_progress(env.session),
        )
    env.session.expire_all()
    run = env.session.scalars(select(SyncRun).order_by(SyncRun.id)).all()[-1]
    assert run.kind == "backfill" and run.status == "interrupted"
    assert account.backfill_cursor == windows[2][0]  # the newest window is done and persisted
    # The half-done middle window was not kept: only the newest window's activities are stored.
    assert set(env.session.scalars(select(Activity.garmin_activity_id))) == set(newest)

    env.sandbox.clear_log()
    report = env.backfill(account, since, today=today)
    assert report.status == "ok", report.message
    assert account.backfill_cursor == since
    # Resumed below the persisted window: nothing of the newest window is fetched again.
    downloaded = {int(r.path.rsplit("/", 1)[1]) for r in env.sandbox.requests("download-service")}
    assert downloaded == {a.activity_id for a in placed[:4]}
    assert report.activities_imported == 4
    # Exact row counts, no duplicates.
    assert count(env, Activity) == sum(sessions.values())
    assert len(set(env.session.scalars(select(Activity.source_id)))) == count(env, Activity)
    assert set(env.session.scalars(select(Activity.garmin_activity_id))) == set(sessions)
    pairs_stored = env.session.execute(select(StrengthSet.activity_id, StrengthSet.set_index)).all()
    assert len(pairs_stored) == len(set(pairs_stored)) > 0
    expected_days = [
        lo + timedelta(days=d)
        for lo, hi in windows
        for d in range((hi - lo).days + 1)
        if env.sandbox.account.wellness_day(lo + timedelta(days=d), today) is not None
    ]
    stored_days = env.session.scalars(select(WellnessDay.date)).all()
    assert sorted(stored_days) == sorted(expected_days)
    again = env.backfill(account, since, today=today)
    assert again.status == "ok" and again.requests == 0 and again.activities_imported == 0


@sqlite_only
def test_hr_profile_from_garmin_recomputes_the_trimp_of_earlier_imports(garmin_env: GarminEnv) -> None:
    """A file imported from a folder before the first sync got the default profile's TRIMP;
    the max and resting HR the sync takes from Garmin's zones recompute it."""
    from sync.fit.trimp import trimp_from_seconds
    from sync.fit.types import TrimpAthlete
    from sync.ingest.importer import import_fit_bytes
    from testkit.helpers import SHORT_RUN_FIT

    env = garmin_env
    athlete = env.athlete()
    data = SHORT_RUN_FIT.read_bytes()
    outcome = import_fit_bytes(env.session, athlete, data, source="folder", name=SHORT_RUN_FIT.name)
    assert outcome.status == "imported"
    (hr_seconds,) = [s.hr_seconds for s in decode_fit(data).sessions]
    activity = env.session.get(Activity, outcome.activity_ids[0])
    assert activity is not None
    assert activity.trimp == trimp_from_seconds(hr_seconds, TrimpAthlete())  # defaults 190/60
    account = env.link(athlete)
    report = env.sync(account)
    assert report.status == "ok", report.message
    assert (athlete.max_hr, athlete.rest_hr) == (185, 42)
    env.session.refresh(activity)
    assert activity.trimp == trimp_from_seconds(hr_seconds, TrimpAthlete("male", 185, 42))
    assert activity.trimp != trimp_from_seconds(hr_seconds, TrimpAthlete())
