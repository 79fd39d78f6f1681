"""A beat scheduler that schedules only while it holds a lease in Redis: one beat at a time.

Run any number of `legday beat` processes (for availability): each ticks, but only the one
holding the Redis lease `legday:lock:beat` sends due tasks. The holder renews the lease on
every tick (ticks are at most a third of the lease apart); a beat that dies, however it dies,
stops renewing, and a standby takes over within one lease (`beat_lease_s`, 30 s by default).
A beat that finds its lease lost (Redis stalled past the lease) stops sending at once.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.beat import PersistentScheduler

from sync.config import get_settings
from sync.locks import Lease, beat_heartbeat_file

log = logging.getLogger(__name__)

LEASE_NAME = "beat"


class LeasedScheduler(PersistentScheduler):
    """Celery's persistent scheduler, gated by a Redis lease."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        settings = get_settings()
        self.lease_s = settings.beat_lease_s
        self._alive = beat_heartbeat_file(settings)
        self._client: Any = None
        self._lease: Lease | None = None
        self._standing_by = False  # said once per spell, so a standby's log is not silent nor noisy
        if settings.redis_url:
            import redis

            self._client = redis.Redis.from_url(settings.redis_url)
            self._lease = Lease(self._client, LEASE_NAME, self.lease_s)
        super().__init__(*args, **kwargs)

    def _leading(self) -> bool:
        """Whether this beat may schedule now: renew the lease it holds, or try to take it."""
        if self._lease is None:
            return True
        from redis.exceptions import RedisError

        try:
            if self._lease.held:
                if not self._lease.renew():
                    log.warning("beat: lease lost; standing by")
                    self._standing_by = True
                return self._lease.held
            if self._lease.acquire():
                log.info("beat: holding the lease; scheduling")
                self._standing_by = False
            elif not self._standing_by:
                log.info(
                    "beat: standing by: another beat holds the lease; taking over within %.0f s if it stops",
                    self.lease_s,
                )
                self._standing_by = True
            return self._lease.held
        except RedisError as exc:
            log.warning("beat: Redis unavailable (%s); not scheduling", type(exc).__name__)
            return False

    def tick(self, *args: Any, **kwargs: Any) -> float:
        """Send due tasks when leading; sleep at most a third of the lease either way."""
        cap = self.lease_s / 3
        self._touch()
        if not self._leading():
            return cap
        return min(super().tick(*args, **kwargs), cap)

    def _touch(self) -> None:
        """Mark this beat alive (leader or standby) for `legday beat --check`."""
        try:
            self._alive.parent.mkdir(parents=True, exist_ok=True)
            self._alive.touch()
        except OSError as exc:
            log.warning("beat: cannot write %s (%s)", self._alive, type(exc).__name__)

    def close(self) -> None:
        """Give the lease back on a clean stop, so a standby takes over at once."""
        try:
            super().close()
        finally:
            if self._lease is not None:
                self._lease.release()
                self._client.close()
