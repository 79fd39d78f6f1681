"""Crashes, quick: one SIGKILL of a worker child mid-backfill and one Redis restart mid-backfill.

A real `legday worker` on a redis-server of this test's own (restarting the shared one would
break other runs) and PostgreSQL. After each: every activity and wellness day the sandbox holds
is stored exactly once, both verdicts are there, and each athlete got exactly one email.
bench/soak_crash.py runs the long version (20+ kills, Redis and PostgreSQL restarts, beat).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from sync.config import get_settings
from sync.garmin import client as garmin_client
from sync.sandbox import Sandbox
from tests.chaos_crash import CrashEngine, OwnRedis
from tests.smtp_server import SmtpServer, smtp_server  # noqa: F401 - fixture


@pytest.fixture
def engine(
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: SmtpServer,  # noqa: F811 - the fixture
) -> Iterator[CrashEngine]:
    """A worker, its own Redis, the sandbox and an SMTP sink, torn down afterwards."""
    from tests.conftest import _truncate_all

    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("LEGDAY_")]:
        if not key.startswith("LEGDAY_SMTP") and key != "LEGDAY_MAIL_FROM":
            monkeypatch.delenv(key)
    monkeypatch.setenv("LEGDAY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LEGDAY_DATABASE_URL", postgres_url)
    monkeypatch.setenv("LEGDAY_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setattr(garmin_client.garth_sso, "OAUTH_CONSUMER", {})
    get_settings.cache_clear()
    own = OwnRedis(tmp_path)
    own.start()
    with Sandbox() as sb:
        eng = CrashEngine(
            sb, get_settings(), own, smtp_server.recorder.messages, tmp_path, seed=3, initial_days=14
        )
        try:
            eng.start_worker()
            yield eng
        finally:
            eng.close()
            own.stop()
            get_settings.cache_clear()
            _truncate_all(postgres_url)


def test_a_worker_killed_mid_backfill_and_a_redis_restart_lose_and_double_nothing(
    engine: CrashEngine,
) -> None:
    killed = engine.round_kills(kills=1, athletes=2, whole_every=99)
    assert killed.injected == 1, "the backfill finished before the kill: nothing was tested"
    assert killed.problems == [], killed.problems
    text = engine.log.read_text()
    assert "WorkerLostError" in text or "exited prematurely" in text, "no child died mid-task"

    restarted = engine.round_redis_restart(athletes=2)
    assert restarted.injected == 1
    assert restarted.problems == [], restarted.problems
