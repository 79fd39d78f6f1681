"""Backoff arithmetic for Garmin rate limits and transient failures, and per-client pacing.

The functions are pure arithmetic (`parse_retry_after` reads the clock only when no `now` is
given). `Pacer` is not: it sleeps to space one client's requests and then takes a token from
the fleet-wide Redis budget (`sync/garmin/budget.py`), which is network I/O.

Garmin's per-account 429s carry no Retry-After and the limit re-arms when retried early, so
without a header each 429 in a row doubles the wait: base, 2x base, 4x base... capped.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None when absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def next_429_backoff(previous_s: float, retry_after: float | None, *, base_s: float, cap_s: float) -> float:
    """How long an account waits after a 429.

    With Retry-After, exactly that (the server knows). Without, double the previous backoff
    (starting at `base_s`), capped at `cap_s`.
    """
    if retry_after is not None:
        return min(retry_after, cap_s)
    if previous_s <= 0:
        return min(base_s, cap_s)
    return min(max(previous_s * 2, base_s), cap_s)


def retry_delay(
    attempt: int, *, base_s: float, cap_s: float = 30.0, rng: random.Random | None = None
) -> float:
    """Pause before retry number `attempt` (1-based): exponential with full jitter on top half."""
    raw = min(cap_s, base_s * (2 ** (attempt - 1)))
    r = (rng or random).random()
    return raw / 2 + raw / 2 * r


class Pacer:
    """Keeps at least `interval_s` between two requests of one client (thread-safe), then takes
    a token from the fleet-wide budget when there is one."""

    def __init__(self, interval_s: float, *, clock=time.monotonic, sleep=time.sleep, budget=None) -> None:  # noqa: ANN001
        self.interval_s = interval_s
        self.budget = budget
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until the next request may go."""
        if self.interval_s > 0:
            self._pace()
        if self.budget is not None:
            self.budget.acquire()

    def _pace(self) -> None:
        with self._lock:
            now = self._clock()
            if now < self._next:
                self._sleep(self._next - now)
                now = self._next
            self._next = now + self.interval_s
