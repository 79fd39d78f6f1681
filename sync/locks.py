"""Per-account locks: one sync of an account at a time, across every worker.

With Redis configured the lock is a Redis lock with a timeout (a crashed worker cannot hold it
forever); the embedded default runs one process, where a thread lock suffices.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sync.config import Settings, get_settings

_local_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


@contextmanager
def exclusive(name: str, *, timeout_s: float = 1800.0, settings: Settings | None = None) -> Iterator[bool]:
    """Try to hold lock `name`; yields whether it was acquired (never waits)."""
    settings = settings or get_settings()
    if settings.redis_url:
        import redis

        client = redis.Redis.from_url(settings.redis_url)
        lock = client.lock(f"legday:lock:{name}", timeout=timeout_s, blocking=False)
        acquired = bool(lock.acquire())
        try:
            yield acquired
        finally:
            if acquired:
                lock.release()
            client.close()
        return
    with _guard:
        local = _local_locks.setdefault(name, threading.Lock())
    acquired = local.acquire(blocking=False)
    try:
        yield acquired
    finally:
        if acquired:
            local.release()
