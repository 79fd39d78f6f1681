"""One bad activity never fails the whole sync, and Garmin's values are checked before use.

Each case rolled the whole run back (0 activities, 0 wellness days) on every run while the
activity stayed in the overlap window, or stored junk that broke the next verdict.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select

from sync.db.models import Activity, Quarantine, StrengthSet
from sync.sandbox import bodies
from sync.scheduling import local_today
from sync.verdicts.compute import compute_verdict
from testkit.factories import sqlite_only
from testkit.garmin_fixtures import GarminEnv

# The Garmin answers are what is under test, not the database: SQLite only.


def _strength_id(env: GarminEnv) -> int:
    (account,) = env.sandbox.accounts.values()
    return next(a.activity_id for a in account.activities if a.type_key == "strength_training")


def _sets_by_source(env: GarminEnv, garmin_id: int) -> dict[str, int]:
    rows = env.session.execute(
        select(StrengthSet.source, func.count())
        .join(Activity, Activity.id == StrengthSet.activity_id)
        .where(Activity.garmin_activity_id == garmin_id)
        .group_by(StrengthSet.source)
    ).all()
    return dict(rows)


def _sync(env: GarminEnv):  # noqa: ANN202 - SyncOutcome
    athlete = env.athlete()
    account = env.link(athlete)
    report = env.sync(account)
    env.session.commit()
    return athlete, report


@sqlite_only
def test_a_404_on_one_activitys_exercise_sets_keeps_the_rest(garmin_env: GarminEnv) -> None:
    env = garmin_env
    strength = _strength_id(env)
    env.sandbox.faults.add("status", rf"/activity/{strength}/exerciseSets", status=404, times=None)
    athlete, report = _sync(env)
    assert report.status == "ok" and report.activities_imported == 4 and report.wellness_days > 0
    assert _sets_by_source(env, strength).keys() == {"fit"}  # the FIT's own sets are kept
    assert any(str(strength) in f and "FIT's kept" in f for f in report.failures)


@sqlite_only
def test_junk_exercise_set_values_are_refused_and_the_fit_sets_kept(garmin_env: GarminEnv) -> None:
    env = garmin_env
    strength = _strength_id(env)
    junk = {
        "activityId": strength,
        "exerciseSets": [
            {"setType": "ACTIVE", "repetitionCount": -5, "weight": "heavy", "exercises": []},
            {"setType": "ACTIVE", "repetitionCount": 8, "weight": 60000.0, "exercises": []},
        ],
    }
    env.sandbox.faults.add(
        "status",
        rf"/activity/{strength}/exerciseSets",
        status=200,
        body=json.dumps(junk).encode(),
        times=None,
    )
    athlete, report = _sync(env)
    assert report.status == "ok" and report.activities_imported == 4
    fit_sets = _sets_by_source(env, strength)
    assert fit_sets.keys() == {"fit"} and fit_sets["fit"] > 2
    assert any("repetitionCount -5" in f for f in report.failures)
    verdict = compute_verdict(env.session, athlete, local_today(athlete.timezone))  # no traceback
    assert verdict.flag.value in ("RUN", "EASY", "REST")


@sqlite_only
def test_an_unreadable_list_row_is_skipped_with_a_line(garmin_env: GarminEnv) -> None:
    env = garmin_env
    (account,) = env.sandbox.accounts.values()
    rows = [bodies.activity_list_item(account, a) for a in account.newest_first()]
    broken_id = rows[1]["activityId"]
    rows[1]["startTimeGMT"] = "yesterday at noon"
    env.sandbox.faults.add(
        "status", "activitylist", status=200, body=json.dumps(bodies.jsonable(rows)).encode(), times=1
    )
    athlete, report = _sync(env)
    assert report.status == "ok" and report.wellness_days > 0
    assert report.activities_imported == len(rows) - 1 and report.activities_skipped == 1
    assert any(f.startswith(f"{broken_id}:") and "unreadable" in f for f in report.failures)


@sqlite_only
def test_a_refused_download_is_counted_and_kept_on_record(garmin_env: GarminEnv) -> None:
    env = garmin_env
    (account,) = env.sandbox.accounts.values()
    refused = account.newest_first()[0].activity_id
    env.sandbox.faults.add("status", rf"/download-service/files/activity/{refused}", status=403, times=None)
    athlete, report = _sync(env)
    assert report.activities_imported == 3 and report.activities_skipped == 1
    reasons = env.session.scalars(select(Quarantine.reason)).all()
    assert any(f"activity {refused} (403 Forbidden)" in r for r in reasons)
    # Not refused for good: once Garmin allows it, the next sync inside the window takes it.
    env.sandbox.faults.clear()
    again = env.sync(athlete.accounts[0])
    assert again.activities_imported == 1
