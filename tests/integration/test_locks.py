"""The per-account lock on real Redis: kept alive while held, released without surprises."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from sync.config import Settings
from sync.locks import exclusive
from testkit.helpers import redis_db_url, wait_for

REDIS_URL = redis_db_url(13)


@pytest.fixture
def redis_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, redis_url=REDIS_URL)


@pytest.fixture
def name() -> Iterator[str]:
    lock_name = f"test-{uuid.uuid4().hex}"
    yield lock_name
    client = redis.Redis.from_url(REDIS_URL)
    client.delete(f"legday:lock:{lock_name}")
    client.close()


def test_a_held_lock_outlives_its_timeout(redis_settings: Settings, name: str) -> None:
    # A backfill runs far longer than the lock's timeout: the lock must stay ours throughout.
    client = redis.Redis.from_url(REDIS_URL)
    with exclusive(name, timeout_s=1, settings=redis_settings) as held:
        assert held
        first_expiry = time.monotonic() + client.pttl(f"legday:lock:{name}") / 1000

        def outlived() -> bool:
            with exclusive(name, timeout_s=1, settings=redis_settings) as other:
                assert not other, "a second holder got the lock while the first still held it"
            # Redis expires the lease on its own clock: the heartbeat must have renewed it.
            return time.monotonic() > first_expiry + 0.5 and bool(client.exists(f"legday:lock:{name}"))

        assert wait_for(outlived, 10, step=0.1), "the lease was not kept past its first timeout"
    client.close()
    # Released on exit (no LockNotOwnedError), and free again at once.
    with exclusive(name, timeout_s=1, settings=redis_settings) as again:
        assert again


def test_a_lost_lock_is_released_with_a_warning(
    redis_settings: Settings, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    caplog.set_level(logging.WARNING, logger="sync.locks")

    def warned() -> bool:
        return any("lock" in r.getMessage() and name in r.getMessage() for r in caplog.records)

    with exclusive(name, timeout_s=1, settings=redis_settings) as held:
        assert held
        client.delete(f"legday:lock:{name}")  # lost (e.g. Redis restarted, or it expired)
        assert wait_for(warned, 10), "the heartbeat did not notice the lost lease"
    # No LockNotOwnedError escaped; it was logged.
    client.close()
    assert warned()


def test_the_embedded_lock_is_still_a_thread_lock(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with exclusive("local-test", settings=settings) as held:
        assert held
        with exclusive("local-test", settings=settings) as other:
            assert not other
    with exclusive("local-test", settings=settings) as again:
        assert again
