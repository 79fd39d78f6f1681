"""Crashes, quick: one SIGKILL of a worker child mid-backfill and one Redis restart mid-backfill.

A real `legday worker` on a redis-server of this test's own (restarting the shared one would
break other runs) and PostgreSQL. After each: every activity and wellness day the sandbox holds
is stored exactly once, both verdicts are there, and each athlete got exactly one email.
bench/soak_crash.py runs the long version (20+ kills, Redis and PostgreSQL restarts, beat).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.config import Settings
from sync.sandbox import Sandbox
from testkit.chaos_crash import CrashEngine, OwnRedis
from testkit.smtp_server import SmtpServer


@pytest.fixture
def engine(
    service_settings: Settings,
    tmp_path: Path,
    smtp_server: SmtpServer,
) -> Iterator[CrashEngine]:
    """A worker, its own Redis, the sandbox and an SMTP sink, torn down afterwards."""
    own = OwnRedis(tmp_path)
    own.start()
    with Sandbox() as sb:
        eng = CrashEngine(
            sb, service_settings, own, smtp_server.recorder.messages, tmp_path, seed=3, initial_days=14
        )
        try:
            eng.start_worker()
            yield eng
        finally:
            eng.close()
            own.stop()


@pytest.mark.long
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
