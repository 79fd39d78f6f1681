"""Hostile FIT downloads are refused with a clear reason and quarantined, never extracted."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import select

from sync.db.models import Activity, Quarantine
from testkit.factories import sqlite_only
from testkit.garmin_fixtures import GarminEnv
from testkit.helpers import RUN_FIT, make_zip


def bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("1_ACTIVITY.fit", b"\0" * (20 * 1024 * 1024))
    return buf.getvalue()


CASES = {
    "zip bomb": (bomb, "ratio"),
    "two members": (
        lambda: make_zip({"a.fit": RUN_FIT.read_bytes(), "b.fit": RUN_FIT.read_bytes()}),
        "exactly one",
    ),
    "path traversal": (lambda: make_zip({"../../etc/evil.fit": RUN_FIT.read_bytes()}), ".."),
}


@sqlite_only
@pytest.mark.parametrize("case", list(CASES))
def test_hostile_zip_is_refused(garmin_env: GarminEnv, case: str) -> None:
    env = garmin_env
    build, reason = CASES[case]
    target = env.sandbox.account.newest_first()[0]
    env.sandbox.faults.add(
        "status",
        f"/download-service/files/activity/{target.activity_id}",
        status=200,
        body=build(),
        times=None,
    )
    account = env.link(env.athlete())
    report = env.sync(account)
    assert report.activities_quarantined == 1 and report.activities_imported == 3
    row = env.session.scalars(select(Quarantine)).one()
    assert reason in row.reason and row.source == "garmin"
    assert not env.session.scalars(
        select(Activity).where(Activity.garmin_activity_id == target.activity_id)
    ).all()
    assert report.status == "ok"  # permanent refusal: not retried every sync
    assert row.garmin_activity_id == target.activity_id
    env.sandbox.clear_log()
    again = env.sync(account)
    assert again.status == "ok" and again.activities_quarantined == 0
    assert not env.sandbox.requests("download-service")  # inside the overlap, yet not fetched again


@sqlite_only
def test_bad_fit_in_a_good_zip_is_not_downloaded_again(garmin_env: GarminEnv) -> None:
    env = garmin_env
    target = env.sandbox.account.newest_first()[0]
    env.sandbox.faults.add(
        "status",
        f"/download-service/files/activity/{target.activity_id}",
        status=200,
        body=make_zip({f"{target.activity_id}_ACTIVITY.fit": b"\x0e\x10" + b"\0" * 100}),
        times=None,
    )
    account = env.link(env.athlete())
    first = env.sync(account)
    assert first.activities_quarantined == 1 and first.status == "ok"
    row = env.session.scalars(select(Quarantine)).one()
    assert row.garmin_activity_id == target.activity_id and "header" in row.reason
    env.sandbox.clear_log()
    second = env.sync(account)
    assert second.status == "ok"
    assert not env.sandbox.requests(f"/download-service/files/activity/{target.activity_id}")


@sqlite_only
def test_download_over_the_size_cap_is_refused_before_reading(garmin_env: GarminEnv) -> None:
    env = garmin_env
    env.settings = env.settings.model_copy(update={"garmin_max_download_bytes": 1000})
    account = env.link(env.athlete())
    report = env.sync(account)
    assert report.activities_quarantined == 4
    reasons = env.session.scalars(select(Quarantine.reason)).all()
    assert all("cap" in r for r in reasons)
    assert len(set(env.session.scalars(select(Quarantine.garmin_activity_id)))) == 4
    env.sandbox.clear_log()
    env.sync(account)
    assert not env.sandbox.requests("download-service")
