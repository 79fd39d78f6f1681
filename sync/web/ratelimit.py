"""Per-athlete rate limit of soreness posts: a one-minute sliding window, in Redis when configured.

A sliding window (a log of the allowed hits of the last minute) rather than a fixed
per-minute counter: posts that straddle a minute boundary still reach the limit. Refused hits
are not logged, so the Retry-After is exact: the moment the oldest allowed hit leaves the window.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable

import redis

from sync.errors import TransientError

WINDOW_S = 60
# What a client is told to wait when the shared count cannot be read (Redis down).
UNAVAILABLE_RETRY_S = 30


class LimiterUnavailable(TransientError):
    """The shared count (Redis) cannot be reached: the caller answers 503 with Retry-After."""


# Atomic check-and-log on one sorted set per key (score = the hit's time): two servers sharing
# Redis never both take the last slot. Returns nil when allowed, else the seconds to wait.
_HIT = """
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('EXPIRE', key, math.ceil(window) + 1)
  return false
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + window - now)
"""


class RateLimiter:
    """Allows `limit` hits per key in any `WINDOW_S` seconds, as read from `clock`.

    Redis shares the log across servers; without Redis (the embedded default) it lives in this
    process.
    """

    def __init__(self, limit: int, redis_url: str | None = None, clock: Callable[[], float] = time.time):
        self.limit = limit
        self._clock = clock
        self._redis = (
            redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2) if redis_url else None
        )
        self._script = self._redis.register_script(_HIT) if self._redis is not None else None
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Count one hit; None when allowed, else the seconds until the next one would be.

        Raises LimiterUnavailable when Redis is configured but cannot be reached.
        """
        now = self._clock()
        if self._script is not None:
            try:
                wait = self._script(
                    keys=[f"legday:ratelimit:{key}"], args=[repr(now), WINDOW_S, self.limit, uuid.uuid4().hex]
                )
            except redis.RedisError as exc:
                # Not counted is not allowed: without the shared count every server would let
                # an attacker through, so the post is refused for now (503), never a 500.
                raise LimiterUnavailable(
                    f"rate limit store unavailable ({type(exc).__name__})", retry_after=UNAVAILABLE_RETRY_S
                ) from None
            return None if wait is None else max(float(wait), 0.001)
        with self._lock:
            for name in [k for k, log in self._hits.items() if not log or log[-1] <= now - WINDOW_S]:
                del self._hits[name]  # forget idle keys: the dict stays as small as the traffic
            log = self._hits.setdefault(key, deque())
            while log and log[0] <= now - WINDOW_S:
                log.popleft()
            if len(log) < self.limit:
                log.append(now)
                return None
            return max(log[0] + WINDOW_S - now, 0.001)
