"""Issue 18 item 13: a gzip-encoded Garmin reply is never inflated without a cap.

The sandbox answers one FIT download and every exerciseSets call with a gzip bomb (about 2 MB
on the wire, 2 GiB once inflated). `legday sync` runs in a child process limited to 1 GiB of
address space (testkit/helpers.py): each bombed call ends in one clear line, the sync goes on
(the other activities, wellness days), and the child never runs out of memory.
"""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from sync.config import Settings, get_settings
from sync.db.migrate import upgrade
from sync.db.models import Activity, WellnessDay
from sync.db.session import session_scope
from sync.garmin_sync.accounts import add_tokens
from sync.sandbox import Sandbox
from testkit.factories import make_athlete
from testkit.helpers import legday_process


def test_a_gzip_bomb_is_one_clear_error_and_the_sync_goes_on(
    settings: Settings, child_env: dict[str, str], sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("LEGDAY_SECRET_KEY", key)
    monkeypatch.setenv("LEGDAY_GARMIN_BASE_URL", sandbox.url)
    monkeypatch.setenv("LEGDAY_GARMIN_MIN_INTERVAL_S", "0")
    get_settings.cache_clear()
    configured = get_settings()
    upgrade(configured)
    with session_scope(configured) as s:
        athlete = make_athlete(s, "ana")
        add_tokens(s, athlete, sandbox.issue_garth_tokens(), configured)
    activities = sandbox.account.newest_first()
    assert any(a.is_strength for a in activities)
    bombed = activities[0].activity_id
    sandbox.faults.add("gzip_bomb", rf"/download-service/files/activity/{bombed}$", times=None)
    sandbox.faults.add("gzip_bomb", r"/exerciseSets$", times=None)
    env = {
        **child_env,
        "LEGDAY_SECRET_KEY": key,
        "LEGDAY_GARMIN_BASE_URL": sandbox.url,
        "LEGDAY_GARMIN_MIN_INTERVAL_S": "0",
        "LEGDAY_GARMIN_BACKOFF_S": "0.05",
        "LEGDAY_GARMIN_INITIAL_DAYS": "14",
    }
    done = legday_process("sync", env=env, timeout=300)
    out = done.stdout + done.stderr
    assert "MemoryError" not in out and "Traceback" not in out, out
    assert done.returncode in (0, 3), out  # done, or partial: never stopped by the bombs
    assert f"{bombed}: " in out and "decodes to more than" in out, out
    assert "Garmin's exercise sets not used" in out, out
    with session_scope(configured) as s:
        stored = s.scalar(
            select(func.count()).select_from(Activity).where(Activity.garmin_activity_id.is_not(None))
        )
        wellness = s.scalar(select(func.count()).select_from(WellnessDay))
    assert stored is not None and stored >= len(activities) - 1  # every activity but the bombed one
    assert wellness and wellness > 0
    assert len(sandbox.requests(rf"/download-service/files/activity/{bombed}$")) >= 1


def test_a_gzip_bomb_on_the_personal_api_is_refused_too(
    settings: Settings, child_env: dict[str, str], sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same bomb on the Personal API's download: one clear line, the rest synced."""
    from sync.garmin_sync.accounts import connect_personal_api

    key = Fernet.generate_key().decode()
    monkeypatch.setenv("LEGDAY_SECRET_KEY", key)
    monkeypatch.setenv("LEGDAY_GARMIN_BASE_URL", sandbox.url)
    monkeypatch.setenv("LEGDAY_GARMIN_MIN_INTERVAL_S", "0")
    get_settings.cache_clear()
    configured = get_settings()
    upgrade(configured)
    with session_scope(configured) as s:
        athlete = make_athlete(s, "ana")
        connect_personal_api(s, athlete, sandbox.issue_personal_api_key(), 90, configured)
    activities = sandbox.account.newest_first()
    bombed = activities[0].activity_id
    sandbox.faults.add("gzip_bomb", rf"/download-service/files/activity/{bombed}$", times=None)
    env = {
        **child_env,
        "LEGDAY_SECRET_KEY": key,
        "LEGDAY_GARMIN_BASE_URL": sandbox.url,
        "LEGDAY_GARMIN_MIN_INTERVAL_S": "0",
        "LEGDAY_GARMIN_BACKOFF_S": "0.05",
        "LEGDAY_GARMIN_INITIAL_DAYS": "14",
    }
    done = legday_process("sync", env=env, timeout=300)
    out = done.stdout + done.stderr
    assert "MemoryError" not in out and "Traceback" not in out, out
    assert done.returncode in (0, 3), out
    assert f"{bombed}: " in out and "decodes to more than" in out, out
    with session_scope(configured) as s:
        stored = s.scalar(
            select(func.count()).select_from(Activity).where(Activity.garmin_activity_id.is_not(None))
        )
    assert stored is not None and stored >= len(activities) - 1
    assert all(r.host == "personal.connectapi.garmin.com" for r in sandbox.log)
