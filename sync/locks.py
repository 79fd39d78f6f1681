"""Per-account locks: one sync of an account at a time, across every worker.

With Redis configured the lock is a Redis lock with a timeout (a crashed worker cannot hold it
forever) that a heartbeat thread renews every timeout/3 while it is held, so a run longer than
the timeout (a year of backfill) keeps it; the embedded default runs one process, where a
thread lock suffices.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sync.config import Settings, get_settings

log = logging.getLogger(__name__)

_local_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def _heartbeat(lock: Any, name: str, interval_s: float, stop: threading.Event) -> None:
    """Reset the lock's TTL to its full timeout every `interval_s` until `stop` is set."""
    from redis.exceptions import LockNotOwnedError, RedisError

    while not stop.wait(interval_s):
        try:
            lock.reacquire()
        except LockNotOwnedError:
            # Expired (Redis stalled longer than the timeout) or deleted: another run may hold
            # it now. Nothing safe to do from here but say so; the run finishes on its own.
            log.warning("lock %s was lost while held; another run may have taken it", name)
            return
        except RedisError as exc:  # a blip: try again on the next beat, before the TTL runs out
            log.warning("lock %s: renewal failed (%s); retrying", name, type(exc).__name__)


@contextmanager
def exclusive(name: str, *, timeout_s: float = 1800.0, settings: Settings | None = None) -> Iterator[bool]:
    """Try to hold lock `name`; yields whether it was acquired (never waits).

    Held as long as the `with` block runs, however long that is: `timeout_s` only bounds how
    long a crashed holder keeps others out.
    """
    settings = settings or get_settings()
    if settings.redis_url:
        import redis
        from redis.exceptions import LockError

        client = redis.Redis.from_url(settings.redis_url)
        # thread_local=False: the heartbeat thread must see the token acquire() stored.
        lock = client.lock(f"legday:lock:{name}", timeout=timeout_s, blocking=False, thread_local=False)
        acquired = bool(lock.acquire())
        stop = threading.Event()
        beat: threading.Thread | None = None
        if acquired:
            beat = threading.Thread(
                target=_heartbeat, args=(lock, name, timeout_s / 3, stop), name=f"lock:{name}", daemon=True
            )
            beat.start()
        try:
            yield acquired
        finally:
            stop.set()
            if beat is not None:
                beat.join(timeout=5.0)  # a daemon: never wait on a hung Redis for long
            if acquired:
                try:
                    lock.release()
                except LockError:  # LockNotOwnedError: it expired or was taken meanwhile
                    log.warning("lock %s was no longer held at release", name)
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
