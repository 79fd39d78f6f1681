"""Per-athlete rate limit of soreness posts: a one-minute fixed window, in Redis when configured."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import redis

from sync.errors import TransientError

WINDOW_S = 60
# What a client is told to wait when the shared count cannot be read (Redis down).
UNAVAILABLE_RETRY_S = 30


class LimiterUnavailable(TransientError):
    """The shared count (Redis) cannot be reached: the caller answers 503 with Retry-After."""


class RateLimiter:
    """Allows `limit` hits per key per minute. Redis shares the count across servers; without
    Redis (the embedded default) the count lives in this process."""

    def __init__(self, limit: int, redis_url: str | None = None, clock: Callable[[], float] = time.time):
        self.limit = limit
        self._clock = clock
        self._redis = (
            redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2) if redis_url else None
        )
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Count one hit; None when allowed, else the seconds until the window resets.

        Raises LimiterUnavailable when Redis is configured but cannot be reached.
        """
        now = self._clock()
        window = int(now // WINDOW_S)
        retry_after = (window + 1) * WINDOW_S - now
        if self._redis is not None:
            name = f"legday:ratelimit:{key}:{window}"
            pipe = self._redis.pipeline()
            pipe.incr(name)
            pipe.expire(name, WINDOW_S * 2)
            try:
                count = int(pipe.execute()[0])
            except redis.RedisError as exc:
                # Not counted is not allowed: without the shared count every server would let
                # an attacker through, so the post is refused for now (503), never a 500.
                raise LimiterUnavailable(
                    f"rate limit store unavailable ({type(exc).__name__})", retry_after=UNAVAILABLE_RETRY_S
                ) from None
        else:
            with self._lock:
                for old in [k for k in self._counts if k[1] < window]:
                    del self._counts[old]
                count = self._counts[(key, window)] = self._counts.get((key, window), 0) + 1
        return None if count <= self.limit else retry_after
