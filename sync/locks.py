"""Per-account locks: one sync of an account at a time, across processes, in both modes.

With Redis configured a lock is a short lease (`lock_ttl_s`, 60 s by default) that a heartbeat
thread renews every third of its TTL while the holder lives. A process killed with SIGKILL
stops renewing, so its lease lapses within one TTL and a redelivered task can take over; a run
longer than the TTL (a year of backfill) keeps the lock for as long as it runs.

Without Redis (the embedded default) a lock is an exclusive `flock` on a file under
`<data dir>/locks/`: the kernel drops it when the holding process dies, however it dies, and
two `legday sync` processes of one account cannot both hold it. Two holders in one process
conflict as well (each `open()` is its own lock owner).
"""

from __future__ import annotations

import logging
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sync.config import Settings, get_settings

log = logging.getLogger(__name__)

KEY_PREFIX = "legday:lock:"


class Lease:
    """A Redis lease: acquire without waiting, renew while alive, release if still ours."""

    def __init__(self, client: Any, name: str, ttl_s: float) -> None:
        self.name = name
        self.ttl_s = ttl_s
        # thread_local=False: a heartbeat thread must see the token that acquire() stored.
        self._lock = client.lock(KEY_PREFIX + name, timeout=ttl_s, blocking=False, thread_local=False)
        self.held = False

    def acquire(self) -> bool:
        """Take the lease if nobody holds it; returns whether it is ours now."""
        self.held = bool(self._lock.acquire())
        log.debug("lock %s: %s", self.name, "acquired" if self.held else "busy")
        return self.held

    def renew(self) -> bool:
        """Reset the lease to its full TTL; False when it was lost (expired or taken)."""
        from redis.exceptions import LockNotOwnedError

        try:
            self._lock.reacquire()
        except LockNotOwnedError:
            self.held = False
        return self.held

    def release(self) -> None:
        """Give the lease back (a lease that was already lost is only logged)."""
        from redis.exceptions import LockError

        if not self.held:
            return
        self.held = False
        log.debug("lock %s: released", self.name)
        try:
            self._lock.release()
        except LockError:  # LockNotOwnedError: it expired or was taken meanwhile
            log.warning("lock %s was no longer held at release", self.name)


def remaining_s(name: str, settings: Settings | None = None) -> float | None:
    """Seconds until lock `name` lapses unless renewed; None when it is free (Redis only)."""
    settings = settings or get_settings()
    if not settings.redis_url:
        return None
    import redis

    client = redis.Redis.from_url(settings.redis_url)
    try:
        ms = client.pttl(KEY_PREFIX + name)
    finally:
        client.close()
    return ms / 1000.0 if ms and ms > 0 else None


def _heartbeat(lease: Lease, interval_s: float, stop: threading.Event) -> None:
    """Renew `lease` every `interval_s` until `stop` is set."""
    from redis.exceptions import RedisError

    while not stop.wait(interval_s):
        try:
            if not lease.renew():
                # Expired (Redis stalled longer than the TTL) or deleted: another run may hold
                # it now. Nothing safe to do from here but say so; the run finishes on its own.
                log.warning("lock %s was lost while held; another run may have taken it", lease.name)
                return
        except RedisError as exc:  # a blip: try again on the next beat, before the TTL runs out
            log.warning("lock %s: renewal failed (%s); retrying", lease.name, type(exc).__name__)


@contextmanager
def _redis_lock(name: str, ttl_s: float, settings: Settings) -> Iterator[bool]:
    import redis

    client = redis.Redis.from_url(settings.redis_url or "")
    lease = Lease(client, name, ttl_s)
    stop = threading.Event()
    beat: threading.Thread | None = None
    try:
        if lease.acquire():
            beat = threading.Thread(
                target=_heartbeat, args=(lease, ttl_s / 3, stop), name=f"lock:{name}", daemon=True
            )
            beat.start()
        yield beat is not None
    finally:
        stop.set()
        if beat is not None:
            beat.join(timeout=5.0)  # a daemon: never wait on a hung Redis for long
        lease.release()
        client.close()


def beat_heartbeat_file(settings: Settings) -> Path:
    """The file a beat of this host touches on every tick (its health check reads it)."""
    return settings.data_dir / "beat" / f"{socket.gethostname()}.alive"


def worker_heartbeat_file(settings: Settings, node: str) -> Path:
    """The file a Celery worker node (`sync@host`) touches on its heartbeats (its health check reads it)."""
    safe = re.sub(r"[^A-Za-z0-9@._-]", "_", node)
    return settings.data_dir / "workers" / f"{safe}.alive"


def lock_file(name: str, settings: Settings) -> Path:
    """The file an embedded lock `name` is taken on."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    return settings.data_dir / "locks" / f"{safe}.lock"


@contextmanager
def _file_lock(name: str, settings: Settings) -> Iterator[bool]:
    import fcntl

    path = lock_file(name, settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def exclusive(
    name: str, *, timeout_s: float | None = None, settings: Settings | None = None
) -> Iterator[bool]:
    """Try to hold lock `name`; yields whether it was acquired (never waits).

    Held as long as the `with` block runs, however long that is: `timeout_s` (default
    `lock_ttl_s`) only bounds how long a crashed holder keeps others out in Redis mode.
    """
    settings = settings or get_settings()
    if settings.redis_url:
        with _redis_lock(name, timeout_s or settings.lock_ttl_s, settings) as held:
            yield held
        return
    with _file_lock(name, settings) as held:
        yield held
