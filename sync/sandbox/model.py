"""Shared pieces of the sandbox: its clock, accounts, request log entries and reply type.

Kept apart from server.py so the route modules can use them without importing the server
(which imports them: no cycle).
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sync.sandbox import bodies
from sync.sandbox.faults import Faults
from sync.sandbox.seed import SandboxActivity, WellnessGenerator, WellnessValues


class SandboxClock:
    """Wall-clock time plus an offset tests can move forward."""

    def __init__(self) -> None:
        self.offset_s = 0.0

    def now(self) -> float:
        """Epoch seconds as the sandbox sees them."""
        return time.time() + self.offset_s

    def advance(self, seconds: float) -> None:
        """Move the sandbox's time forward (tokens expire, days pass)."""
        self.offset_s += seconds

    def today(self, tz: str) -> date:
        """The current date in a time zone."""
        return datetime.fromtimestamp(self.now(), ZoneInfo(tz)).date()


@dataclass
class LoggedRequest:
    """One request the sandbox saw."""

    method: str
    host: str
    path: str
    query: dict[str, str]
    auth: str | None  # bearer | oauth1 | basic | None
    account: str | None
    at: float  # sandbox clock
    status: int = 0
    retry_after: float | None = None  # seconds the answer's Retry-After asked for, if any


@dataclass
class SandboxAccount:
    """One Garmin user."""

    display_name: str = "example_user"
    full_name: str = "Example User"
    profile_id: int = 12345678
    timezone: str = "UTC"
    email: str = "example@example.com"
    password: str = "sandbox-password"
    activities: list[SandboxActivity] = field(default_factory=list)
    wellness: WellnessGenerator | None = None
    budget_per_minute: int | None = None  # requests per rolling minute; over it: 429
    oauth1: dict[str, str] = field(default_factory=dict)  # oauth_token -> secret
    workouts: dict[int, dict[str, Any]] = field(default_factory=dict)
    schedules: dict[int, dict[str, Any]] = field(default_factory=dict)
    workout_requests: dict[int, dict[str, Any]] = field(default_factory=dict)  # bodies as sent
    # A test switch: a day's generated values replaced as given (a negative HRV, 25 h of sleep...).
    wellness_overrides: dict[date, dict[str, Any]] = field(default_factory=dict)
    _recent: list[float] = field(default_factory=list)

    def newest_first(self) -> list[SandboxActivity]:
        """Activities as the list endpoint orders them."""
        return sorted(self.activities, key=lambda a: (a.start, a.activity_id), reverse=True)

    def wellness_day(self, day: date, today: date) -> WellnessValues | None:
        """Generated wellness for a date (None: no data)."""
        values = self.wellness.day(day, today) if self.wellness else None
        patch = self.wellness_overrides.get(day)
        return dataclasses.replace(values, **patch) if values is not None and patch else values


@dataclass
class Reply:
    """What the handler writes back: status, body, content type, extra headers."""

    status: int
    body: bytes = b""
    content_type: str | None = "application/json;charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)
    truncate: bool = False  # send half the body, then reset the connection


def json_reply(value: Any, status: int = 200) -> Reply:
    """A JSON reply (dates and dataclasses made JSON-able the way the bodies expect)."""
    return Reply(status, json.dumps(bodies.jsonable(value)).encode())


def parse_day(text: str | None) -> date | None:
    """An ISO date from a query or path (None when missing or malformed)."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


# (method, path regex, "bearer" | "open", handler): bearer handlers get (account, query, body,
# *groups), open ones (query, body, headers, account name, *groups).
RouteSpec = tuple[str, str, str, Callable[..., Reply]]

BEARER = "bearer"
OPEN = "open"


class SandboxState:
    """State every route mixin reads; `Sandbox.__init__` fills it in."""

    clock: SandboxClock
    faults: Faults
    accounts: dict[str, SandboxAccount]
    _lock: threading.Lock

    if TYPE_CHECKING:  # defined by Sandbox and ActivityRoutes; the Personal API routes call them

        def _over_budget(self, account: SandboxAccount) -> bool: ...
        def _find(self, a: SandboxAccount, activity_id: str) -> SandboxActivity | Reply: ...
        def _r_download(self, a: SandboxAccount, q: dict[str, str], body: bytes, aid: str) -> Reply: ...
        def _r_list(self, a: SandboxAccount, q: dict[str, str], body: bytes) -> Reply: ...

    @property
    def account(self) -> SandboxAccount:
        """The default account."""
        return next(iter(self.accounts.values()))
