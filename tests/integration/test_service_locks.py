"""Locks across real processes: two `legday sync` without Redis, a SIGKILLed lease holder, two beats.

Redis DB 10 and private key names: other test files use other databases concurrently.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from cryptography.fernet import Fernet

from sync.config import Settings, get_settings
from sync.db.migrate import upgrade
from sync.db.session import session_scope
from sync.garmin_sync.accounts import add_tokens
from sync.locks import KEY_PREFIX, exclusive, lock_file
from testkit.factories import make_athlete
from testkit.helpers import redis_db_url, wait_for

REDIS_URL = redis_db_url(10)
LEGDAY = [str(Path(sys.executable).with_name("legday"))]


@pytest.mark.long
def test_a_second_legday_sync_of_one_account_exits_5_without_redis(
    settings: Settings,
    sandbox,
    monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
) -> None:
    monkeypatch.setenv("LEGDAY_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("LEGDAY_GARMIN_BASE_URL", sandbox.url)
    monkeypatch.setenv("LEGDAY_GARMIN_MIN_INTERVAL_S", "0")
    monkeypatch.setenv("LEGDAY_GARMIN_INITIAL_DAYS", "14")
    get_settings.cache_clear()
    configured = get_settings()
    upgrade(configured)
    with session_scope(configured) as s:
        add_tokens(s, make_athlete(s, "ana"), sandbox.issue_garth_tokens(), configured)
    # A second per request keeps the first sync running (a request a second) while the second
    # starts, even on a loaded machine; it goes back to 0 as soon as the second has answered.
    sandbox.faults.latency_ms = 1000
    sandbox.clear_log()
    env = dict(os.environ)
    first = subprocess.Popen(
        [*LEGDAY, "sync"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert wait_for(lambda: len(sandbox.requests()) >= 2), "the first sync never reached Garmin"
        second = subprocess.run([*LEGDAY, "sync"], env=env, capture_output=True, text=True, timeout=60)
        sandbox.faults.latency_ms = 0
        assert second.returncode == 5, second.stdout + second.stderr
        assert "another sync of this account is running" in second.stdout
    finally:
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, out + err
    # The lock went with its process: a third sync runs.
    third = subprocess.run([*LEGDAY, "sync"], env=env, capture_output=True, text=True, timeout=120)
    assert third.returncode == 0, third.stdout + third.stderr
    assert lock_file("sync:1", configured).parent.is_dir()


def test_the_file_lock_dies_with_its_process(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    code = (
        "import sys\nfrom pathlib import Path\nfrom sync.config import Settings\n"
        "from sync.locks import exclusive\n"
        f"with exclusive('acct', settings=Settings(data_dir=Path({str(tmp_path)!r}))) as held:\n"
        "    print(held, flush=True)\n    sys.stdin.read()\n"  # holds it until killed
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
        with exclusive("acct", settings=settings) as held:
            assert not held
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        with exclusive("acct", settings=settings) as held:
            assert held, "a SIGKILLed holder kept the file lock"
    finally:
        holder.kill()


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.mark.long
def test_a_sigkilled_holder_frees_the_redis_lease_within_its_ttl(
    tmp_path: Path, redis_client: redis.Redis
) -> None:
    name = f"test-{uuid.uuid4().hex}"
    settings = Settings(data_dir=tmp_path, redis_url=REDIS_URL, lock_ttl_s=2)
    code = (
        "import sys\nfrom sync.config import Settings\nfrom sync.locks import exclusive\n"
        f"s = Settings(redis_url={REDIS_URL!r}, lock_ttl_s=2)\n"
        f"with exclusive({name!r}, settings=s) as held:\n    print(held, flush=True)\n    sys.stdin.read()\n"
    )
    holder = subprocess.Popen(  # it holds the lease (its heartbeat renewing it) until killed
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
        # Redis expires the lease on its own clock: wait until it is still there past its first
        # TTL, i.e. the holder's heartbeat renewed it.
        first_expiry = time.monotonic() + redis_client.pttl(KEY_PREFIX + name) / 1000
        assert wait_for(
            lambda: time.monotonic() > first_expiry + 0.5 and bool(redis_client.exists(KEY_PREFIX + name)), 10
        ), "a live holder lost its lease"
        with exclusive(name, settings=settings) as held:
            assert not held, "a live holder lost its lease"
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        # Redis' own clock decides, not how fast this machine polls: once the holder is dead its
        # lease has at most one TTL left (-2: gone already; -1 would be a lease that never
        # lapses), and with nobody renewing it, it lapses: well within the 10 s waited here.
        left_ms = redis_client.pttl(KEY_PREFIX + name)
        assert left_ms == -2 or 0 <= left_ms <= 2000, f"the lease outlived its TTL: {left_ms} ms"

        def free() -> bool:
            with exclusive(name, settings=settings) as held:
                return held

        assert wait_for(free, 10), "a dead holder's lease was renewed"
    finally:
        holder.kill()
        redis_client.delete(KEY_PREFIX + name)


def _beat(tmp_path: Path, tag: str, queue: str) -> tuple[subprocess.Popen[str], Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGDAY_")}
    env.update(
        LEGDAY_REDIS_URL=REDIS_URL,
        LEGDAY_DATA_DIR=str(tmp_path / tag),
        LEGDAY_QUEUE=queue,
        LEGDAY_BEAT_LEASE_S="3",
        LEGDAY_DISPATCH_INTERVAL_S="1",
        LEGDAY_LOG_LEVEL="INFO",
    )
    log = tmp_path / f"beat-{tag}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [*LEGDAY, "beat"], env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, text=True
        )
    return proc, log


@pytest.mark.long
def test_two_beats_one_schedules_and_a_standby_takes_over(tmp_path: Path, redis_client: redis.Redis) -> None:
    queue = f"legday-beat-test-{uuid.uuid4().hex[:8]}"
    redis_client.delete(KEY_PREFIX + "beat")
    beats = {tag: _beat(tmp_path, tag, queue) for tag in ("a", "b")}

    def sent(tag: str) -> int:
        return beats[tag][1].read_text().count("Sending due task")

    try:
        assert wait_for(lambda: sent("a") + sent("b") >= 4, 60), "no beat scheduled"
        counts = {tag: sent(tag) for tag in beats}
        leaders = [tag for tag, n in counts.items() if n]
        assert len(leaders) == 1, f"both beats scheduled: {counts}"
        (leader,) = leaders
        (standby,) = [tag for tag in beats if tag != leader]
        # The standby says once that it stands by, not at every tick.
        assert wait_for(lambda: "standing by" in beats[standby][1].read_text(), 20), "a silent standby"
        assert beats[standby][1].read_text().count("standing by") == 1
        # The leader dies without a word; the standby takes over within one lease (3 s).
        beats[leader][0].send_signal(signal.SIGKILL)
        beats[leader][0].wait(timeout=10)
        killed_at = time.monotonic()
        assert wait_for(lambda: sent(standby) >= 1, 20), "the standby never took over"
        assert time.monotonic() - killed_at < 3 + 1 + 3, "the takeover took longer than a lease and a tick"
        assert "holding the lease" in beats[standby][1].read_text()
        # Its health check says so; a data dir where no beat ticks says the opposite.
        env = {**os.environ, "LEGDAY_DATA_DIR": str(tmp_path / standby)}
        assert subprocess.run([*LEGDAY, "beat", "--check"], env=env).returncode == 0
        env["LEGDAY_DATA_DIR"] = str(tmp_path / "nobody")
        assert subprocess.run([*LEGDAY, "beat", "--check"], env=env).returncode == 1
    finally:
        for proc, _ in beats.values():
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        redis_client.delete(KEY_PREFIX + "beat", queue)
