"""Run one account now, under its lock: the entry point the CLI and the worker share.

`locked_run(account_id, body)` takes the account's lock, reads the account (and its tokens) only
once it holds it, opens the Garmin client, runs `body` (a sync, a backfill) and turns a run
that Garmin stopped into an error: `AccountBusy` / `GarminDown` (transient: try again later) or
`AccountNeedsReauth` (permanent), each carrying the run's report; the account's state and its
sync_run row are recorded before it is raised (garmin_sync/guard.py). A rate-limited run is
returned, not raised: the account's `rate_limited_until` is its retry, and the dispatcher
honours it (a worker countdown could not wait that long). `sync_account_now` is the worker's
flavour (`legday sync` and `legday backfill` call `locked_run` with their own body).

One lock per account (`account_lock`): every Garmin call that can refresh a token holds it
(syncs, backfills, workout pushes, connecting new tokens), in every process, because a DI
refresh token rotates: two refreshes with the same one get one refusal, and the account would
need re-auth. Two syncs would also race on the cursors. With Redis it is a lease renewed while
the holder lives; without, a file lock in the data dir (sync/locks.py). The tokens are read
only once the lock is held, so a holder always starts from the newest refresh token.

Transactions: `sync_account_now` is an entry point that owns its session (sync/db/tx.py); the
sync it runs keeps its windows through `keep_progress(session)`, the checkpoint it passes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from sync.config import Settings, get_settings
from sync.db.models import GarminAccount
from sync.db.session import session_scope
from sync.db.statuses import AccountStatus
from sync.db.tx import keep_progress
from sync.errors import LegdayError, PermanentError, TransientError
from sync.garmin.source import GarminSource
from sync.garmin_sync.context import SyncOutcome
from sync.garmin_sync.due import serve_wellness_moment
from sync.garmin_sync.run import open_client, sync_account
from sync.garmin_sync.wellness import night_complete
from sync.locks import exclusive, remaining_s
from sync.scheduling import local_today

__all__ = [
    "AccountBusy",
    "AccountNeedsReauth",
    "GarminDown",
    "LockedSync",
    "RunStopped",
    "account_lock",
    "account_lock_name",
    "locked_run",
    "sync_account_now",
]

_LOCK_POLL_S = 0.25


class AccountBusy(TransientError):
    """Another Garmin call of the account holds its lock: try again once its lease can lapse.

    `retry_after` is the lease's remaining TTL (None without Redis). `max_retries` allows about
    half an hour of another live holder before a worker gives up (the next dispatch queues the
    account again): a redelivered task must never be dropped as "busy".
    """

    status = "busy"
    max_retries = 30

    def __init__(
        self, account_id: int, settings: Settings | None = None, *, message: str | None = None
    ) -> None:
        super().__init__(
            message or "another Garmin call of this account holds its lock",
            retry_after=remaining_s(account_lock_name(account_id), settings),
        )
        self.account_id = account_id


class RunStopped(LegdayError):
    """Base of the errors that end a run Garmin stopped: `report` is what the run did."""

    report: SyncOutcome

    @property
    def status(self) -> str:
        """The run's status (`unavailable`, `needs_reauth`), as its sync_run row records it."""
        return self.report.status


class GarminDown(RunStopped, TransientError):
    """Garmin was unavailable (5xx, timeouts) mid-run: the run stopped; try it again later."""

    def __init__(self, report: SyncOutcome) -> None:
        super().__init__(report.message or "Garmin unavailable")
        self.report = report


class AccountNeedsReauth(RunStopped, PermanentError):
    """Garmin refused the account's tokens (or they ended): nothing works until a new login."""

    def __init__(self, report: SyncOutcome) -> None:
        super().__init__(report.message or "tokens rejected")
        self.report = report


def account_lock_name(account_id: int) -> str:
    """The name of an account's sync lock (also what the worker's busy retry waits on)."""
    return f"sync:{account_id}"


@contextmanager
def account_lock(account_id: int, settings: Settings | None = None, *, wait_s: float = 0.0) -> Iterator[bool]:
    """Hold the account's lock for the `with` block; yields whether it was acquired.

    `wait_s` > 0 polls that long for a busy lock (an in-process caller with nobody to retry it
    later); the worker never waits (it retries the task once the lease can have lapsed).
    """
    deadline = time.monotonic() + wait_s
    while True:
        with exclusive(account_lock_name(account_id), settings=settings) as acquired:
            if acquired or time.monotonic() >= deadline:
                yield acquired
                return
        time.sleep(_LOCK_POLL_S)


@dataclass(frozen=True)
class LockedSync:
    """How `sync_account_now` ended without an error: `skipped` carries no report."""

    status: str  # skipped | fresh (nothing to fetch) | the report's status (ok, partial, rate_limited)
    report: SyncOutcome | None = None
    athlete_id: int | None = None
    timezone: str | None = None
    wellness: bool = True  # whether wellness was fetched (False: the cheap activity check)


@dataclass
class _Seen:
    """What `sync_account_now`'s locked body saw of the account (set once the body runs)."""

    athlete_id: int | None = None
    timezone: str | None = None
    wellness: bool = True


def locked_run(
    account_id: int,
    body: Callable[[Session, GarminAccount, GarminSource, Settings], SyncOutcome],
    *,
    settings: Settings | None = None,
    wait_s: float = 0.0,
    skip_locked_out: bool = False,
) -> SyncOutcome | None:
    """Run `body(session, account, client, settings)` under the account's lock, in a session of
    its own; returns its report (None for an account that is gone, or with `skip_locked_out`
    one that needs new tokens: no call to Garmin).

    Raises `AccountBusy` when another call holds the lock (after `wait_s`), `GarminDown` or
    `AccountNeedsReauth` when Garmin stopped the run (its state is recorded first); anything
    else the run raises (Ctrl-C, a bug) passes through, recorded as `interrupted` / `failed`.
    """
    settings = settings or get_settings()
    with account_lock(account_id, settings, wait_s=wait_s) as acquired:
        if not acquired:
            raise AccountBusy(account_id, settings)
        with session_scope(settings) as session:
            account = session.get(GarminAccount, account_id)
            if account is None:
                return None
            if skip_locked_out and account.status == AccountStatus.NEEDS_REAUTH:
                account.next_sync_at = None  # no sync until new tokens come (they make it due)
                return None
            client = open_client(session, account, settings, reuse=True, checkpoint=keep_progress(session))
            report = body(session, account, client, settings)
    raise_for_status(report)
    return report


def raise_for_status(report: SyncOutcome) -> None:
    """Raise the error of a run that Garmin stopped (see the module); else nothing."""
    if report.status == "unavailable":
        raise GarminDown(report)
    if report.status == "needs_reauth":
        raise AccountNeedsReauth(report)


def _night_served(account_id: int, settings: Settings, moment: datetime) -> LockedSync | None:
    """`fresh` when a wellness moment needs no Garmin call at all: last night is stored and the
    activities were checked less than a check interval ago. Then the moment is served and the
    account's next sync is the next check or moment, whichever comes first (no lock needed:
    only the account's schedule is written). None: sync."""
    with session_scope(settings) as session:
        account = session.get(GarminAccount, account_id)
        if account is None or account.last_sync_at is None or account.status == AccountStatus.NEEDS_REAUTH:
            return None
        check = account.last_sync_at + timedelta(seconds=settings.activity_check_interval_s)
        athlete = account.athlete
        if check <= moment or not night_complete(session, athlete.id, local_today(athlete.timezone, moment)):
            return None
        owed = serve_wellness_moment(account, moment, settings)
        account.next_sync_at = min(check, owed)
        return LockedSync("fresh", None, athlete.id, athlete.timezone, wellness=False)


def sync_account_now(
    account_id: int,
    *,
    settings: Settings | None = None,
    wellness: bool = True,
    now: datetime | None = None,
) -> LockedSync:
    """Sync one account under its lock (the worker's and the first sync's entry point).

    Raises as `locked_run` does (`AccountBusy` without waiting). `skipped` for an account that
    is gone or needs new tokens (no call to Garmin). A wellness sync becomes the cheap activity
    check when last night is stored already.
    """
    settings = settings or get_settings()
    if wellness:
        served = _night_served(account_id, settings, now or datetime.now(UTC))
        if served is not None:
            return served
    seen = _Seen()

    def body(
        session: Session, account: GarminAccount, client: GarminSource, settings: Settings
    ) -> SyncOutcome:
        seen.athlete_id, seen.timezone = account.athlete_id, account.athlete.timezone
        fetch = wellness
        # Last night as of `now` (not the wall clock): a caller may sync for another moment.
        if fetch and night_complete(session, account.athlete_id, local_today(account.athlete.timezone, now)):
            fetch = False  # last night is stored already: only look for new activities
            serve_wellness_moment(account, now or datetime.now(UTC), settings)
        seen.wellness = fetch
        return sync_account(
            session,
            account,
            client,
            settings=settings,
            now=now,
            wellness=fetch,
            checkpoint=keep_progress(session),
        )

    report = locked_run(account_id, body, settings=settings, skip_locked_out=True)
    if report is None:
        return LockedSync("skipped")
    return LockedSync(report.status, report, seen.athlete_id, seen.timezone, seen.wellness)
