"""A request budget shared by every worker: a token bucket in Redis.

Garmin limits each account, but a fleet of workers syncing many accounts must not hammer it
either. Each request first takes a token from one bucket in Redis (refilled at
`LEGDAY_GARMIN_GLOBAL_RPS` per second, up to `LEGDAY_GARMIN_GLOBAL_BURST`); the check and the
take are one Lua script, so workers never race for the same token.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis

from sync.config import Settings
from sync.garmin.errors import GarminUnavailable

# KEYS[1] bucket hash; ARGV: rate/s, burst, now (s). Returns 0 when a token was taken,
# else the seconds to wait for the next one (as a string, to keep the fraction).
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return tostring(wait)
"""


class GlobalBudget:
    """Blocks until the fleet-wide bucket grants a request (or gives up after `max_wait_s`)."""

    def __init__(
        self,
        client: redis.Redis,
        rate_per_s: float,
        burst: int,
        *,
        key: str = "legday:garmin:budget",
        max_wait_s: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """`clock` gives the seconds the refill is measured on; by default Redis' own clock
        (`TIME`), the one every worker shares. Tests pass a clock that `sleep` moves on."""
        self._client = client
        self._take = client.register_script(_TAKE)
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.key = key
        self.max_wait_s = max_wait_s
        self._sleep = sleep
        self._clock = clock or self._redis_time

    def _redis_time(self) -> float:
        """Redis' clock, not ours: every worker must measure refill on the same clock."""
        seconds, micros = self._client.time()
        return seconds + micros / 1e6

    def acquire(self) -> None:
        """Take one token, sleeping while the bucket is empty."""
        waited = 0.0
        while True:
            wait = float(self._take(keys=[self.key], args=[self.rate_per_s, self.burst, self._clock()]))
            if wait <= 0:
                return
            if waited + wait > self.max_wait_s:
                raise GarminUnavailable("the shared Garmin request budget is exhausted; try again later")
            self._sleep(wait)
            waited += wait


def global_budget_from(settings: Settings) -> GlobalBudget | None:
    """The shared budget when Redis and a rate are configured, else None (embedded default)."""
    if not settings.redis_url or not settings.garmin_global_rps:
        return None
    client = redis.Redis.from_url(settings.redis_url)
    return GlobalBudget(client, settings.garmin_global_rps, settings.garmin_global_burst)
