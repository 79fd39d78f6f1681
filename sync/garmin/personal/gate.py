"""Per-key pacing: at most two requests of one Personal API key in flight, and one pause
after a 429 that every request of the key waits out.

Garmin answers 429 when one key sends about a dozen requests at once (PERSONAL-API.md s.5).
The gate is per process, shared by every thread and every client made for the same key: a
key is looked up by its SHA-256, never kept as a dictionary key in clear. Across processes
the account's lock (sync/garmin_sync/now.py) already allows one sync per account at a time,
and `legday garmin connect` takes it too for an account that exists, so one key's requests
come from one process at a time. A brand-new key that has no account yet is checked once (two
requests) by whoever connects it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

MAX_IN_FLIGHT = 2


class KeyGate:
    """The in-flight slots and the 429 pause of one key."""

    def __init__(self, max_in_flight: int = MAX_IN_FLIGHT) -> None:
        self.max_in_flight = max(1, min(max_in_flight, MAX_IN_FLIGHT))
        self._slots = threading.BoundedSemaphore(self.max_in_flight)
        self._lock = threading.Lock()
        self._not_before = 0.0  # on the caller's clock (epoch seconds)
        self.in_flight = 0
        self.peak_in_flight = 0

    def hold(self, until: float) -> None:
        """No request of this key leaves before `until` (a 429's Retry-After)."""
        with self._lock:
            self._not_before = max(self._not_before, until)

    def not_before(self) -> float:
        """When the next request of this key may leave."""
        with self._lock:
            return self._not_before

    @contextmanager
    def slot(self, clock: Callable[[], float], sleep: Callable[[float], None]) -> Iterator[None]:
        """Hold one in-flight slot for the `with` block, after any 429 pause is over."""
        with self._slots:
            while (wait := self.not_before() - clock()) > 0:
                sleep(wait)
            with self._lock:
                self.in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                yield
            finally:
                with self._lock:
                    self.in_flight -= 1


_GATES: dict[str, KeyGate] = {}
_GATES_LOCK = threading.Lock()


def key_id(api_key: str) -> str:
    """A stable, non-secret name for a key (its SHA-256, shortened)."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:32]


def gate_for(api_key: str) -> KeyGate:
    """This process's gate for a key (made on first use)."""
    name = key_id(api_key)
    with _GATES_LOCK:
        gate = _GATES.get(name)
        if gate is None:
            gate = _GATES[name] = KeyGate()
        return gate
