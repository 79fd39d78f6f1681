"""A real `legday worker` (prefork) on Redis and PostgreSQL: a child SIGKILLed mid-sync.

The task was acknowledged late and rejected when its child died, so Redis hands it out again;
the redelivered task finds the dead child's lease still held, is retried once the lease has
lapsed (never dropped as "busy"), and completes: every activity stored once, both verdicts.
Redis DB 11 and private queue names: other test files use other databases concurrently.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from celery import Celery
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from sync.config import Settings, get_settings
from sync.db.models import Activity, SyncRun, VerdictRecord
from sync.db.session import session_scope
from sync.garmin_sync.accounts import add_tokens
from testkit.factories import make_athlete
from testkit.helpers import redis_db_url, wait_for

REDIS_URL = redis_db_url(11)
LEGDAY = str(Path(sys.executable).with_name("legday"))


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(x) for x in text)
    return found


def _linked_account(settings: Settings, sandbox, name: str) -> int:  # noqa: ANN001
    """An athlete linked to the sandbox with garth tokens; the account's id."""
    with session_scope(settings) as s:
        athlete = make_athlete(s, name)
        return add_tokens(s, athlete, sandbox.issue_garth_tokens(), settings).id


def _worker_env(**extra: str) -> tuple[dict[str, str], str, str]:
    """The environment of a worker on private queues and a 3 s lock lease; and the queues."""
    suffix = uuid.uuid4().hex[:8]
    queue, sync_queue = f"legday-t-{suffix}", f"legday-t-sync-{suffix}"
    env = {
        **os.environ,
        "LEGDAY_REDIS_URL": REDIS_URL,
        "LEGDAY_QUEUE": queue,
        "LEGDAY_SYNC_QUEUE": sync_queue,
        "LEGDAY_LOCK_TTL_S": "3",
        "LEGDAY_LOG_LEVEL": "INFO",
        **extra,
    }
    return env, queue, sync_queue


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`legday worker` (prefork, one child) writing to `log`."""
    argv = [LEGDAY, "worker", "--pool", "prefork", "-c", "1", "--", "--without-gossip", "--without-mingle"]
    with open(log, "a") as out:
        return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)


def _finished(settings: Settings) -> bool:
    with session_scope(settings) as s:
        verdicts = s.scalar(select(func.count()).select_from(VerdictRecord))
        ok = s.scalar(select(func.count()).where(SyncRun.status == "ok", SyncRun.kind == "sync"))
    return verdicts == 2 and ok == 1


@pytest.fixture
def pg_settings(postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox) -> Settings:  # noqa: ANN001
    from tests.conftest import _truncate_all

    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("LEGDAY_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("LEGDAY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LEGDAY_DATABASE_URL", postgres_url)
    monkeypatch.setenv("LEGDAY_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("LEGDAY_GARMIN_BASE_URL", sandbox.url)
    monkeypatch.setenv("LEGDAY_GARMIN_MIN_INTERVAL_S", "0")
    monkeypatch.setenv("LEGDAY_GARMIN_INITIAL_DAYS", "14")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()
    _truncate_all(postgres_url)


@pytest.mark.long
def test_a_sigkilled_child_mid_sync_is_redelivered_and_completes(pg_settings: Settings, sandbox) -> None:  # noqa: ANN001
    account_id = _linked_account(pg_settings, sandbox, "ana")
    env, queue, sync_queue = _worker_env()
    log = pg_settings.data_dir.parent / "worker.log"
    worker = _start_worker(env, log)
    client = Celery("legday-test", broker=REDIS_URL)
    broker = redis.Redis.from_url(REDIS_URL)
    try:
        assert wait_for(lambda: len(_children(worker.pid)) == 1, 60), log.read_text()
        sandbox.faults.latency_ms = 150  # a sync of a few seconds: time to kill it half-way
        sandbox.clear_log()
        client.send_task("worker.tasks.sync_account", args=[account_id], queue=sync_queue)
        assert wait_for(lambda: len(sandbox.requests("/download-service")) >= 1, 60), log.read_text()
        (child,) = _children(worker.pid)
        left = broker.pttl(f"legday:lock:sync:{account_id}")
        print("lease left before the kill (ms):", left)
        assert left > 0, "the sync holds no lease"
        os.kill(child, signal.SIGKILL)
        killed_at = time.monotonic()
        sandbox.faults.latency_ms = 0

        assert wait_for(lambda: _finished(pg_settings), 60), log.read_text()
        took = time.monotonic() - killed_at
        print(f"redelivered and completed {took:.1f} s after the SIGKILL")
        assert took < 60
        text = log.read_text()
        assert "WorkerLostError" in text or "exited prematurely" in text, text
        # Redelivered before the dead child's lease lapsed, it was retried ("Retry in"); after,
        # it ran at once. Either way it was never acknowledged as "busy".
        assert "sync_account" in text and "succeeded" in text and "'busy'" not in text, text
        with session_scope(pg_settings) as s:
            sources = s.scalars(select(Activity.source_id)).all()
        assert len(sources) == len(set(sources)) == 5
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        broker.delete(queue, sync_queue)
        broker.close()
        client.close()


@pytest.mark.long
def test_a_whole_worker_killed_mid_sync_returns_its_task_after_the_visibility_timeout(
    pg_settings: Settings,
    sandbox,  # noqa: ANN001
) -> None:
    account_id = _linked_account(pg_settings, sandbox, "bo")
    # The visibility timeout is 15 minutes in production; short here.
    env, queue, sync_queue = _worker_env(LEGDAY_VISIBILITY_TIMEOUT_S="8")
    log = pg_settings.data_dir.parent / "worker.log"
    first = _start_worker(env, log)
    second: subprocess.Popen[bytes] | None = None
    client = Celery("legday-test", broker=REDIS_URL)
    broker = redis.Redis.from_url(REDIS_URL)
    try:
        assert wait_for(lambda: len(_children(first.pid)) == 1, 60), log.read_text()
        sandbox.faults.latency_ms = 150
        sandbox.clear_log()
        client.send_task("worker.tasks.sync_account", args=[account_id], queue=sync_queue)
        assert wait_for(lambda: len(sandbox.requests("/download-service")) >= 1, 60), log.read_text()
        for pid in [*_children(first.pid), first.pid]:  # the node is lost: nobody rejects the task
            os.kill(pid, signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = time.monotonic()
        sandbox.faults.latency_ms = 0
        second = _start_worker(env, log)
        assert wait_for(lambda: _finished(pg_settings), 90), log.read_text()
        took = time.monotonic() - killed_at
        print(f"restored and completed {took:.1f} s after the worker was killed")
        assert took >= 8 - 1, "redelivered before the visibility timeout: the setting is not in effect"
        with session_scope(pg_settings) as s:
            sources = s.scalars(select(Activity.source_id)).all()
        assert len(sources) == len(set(sources)) == 5
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        broker.delete(queue, sync_queue)
        broker.close()
        client.close()
