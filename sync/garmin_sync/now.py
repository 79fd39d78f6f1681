"""Sync one account now, under its lock: the entry point the CLI and the worker share.

One lock per account (`account_lock`): every Garmin call that can refresh a token holds it
(syncs, backfills, workout pushes, connecting new tokens), in every process, because a DI
refresh token rotates: two refreshes with the same one get one refusal, and the account would
need re-auth. Two syncs would also race on the cursors. With Redis it is a lease renewed while
the holder lives; without, a file lock in the data dir (sync/locks.py). The tokens are read
only once the lock is held, so a holder always starts from the newest refresh token.

Transactions: `sync_account_now` is an entry point that owns its session (sync/db/tx.py); the
sync it runs keeps its windows through the default checkpoint.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sync.config import Settings, get_settings
from sync.db.models import GarminAccount
from sync.db.session import session_scope
from sync.db.statuses import AccountStatus
from sync.errors import TransientError
from sync.garmin_sync.context import SyncReport
from sync.garmin_sync.run import open_client, sync_account
from sync.garmin_sync.wellness import night_complete
from sync.locks import exclusive
from sync.scheduling import local_today

__all__ = ["AccountBusy", "LockedSync", "account_lock", "account_lock_name", "sync_account_now"]

_LOCK_POLL_S = 0.25


class AccountBusy(TransientError):
    """Another Garmin call of the account holds its lock: try again shortly."""


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
    """How `sync_account_now` ended: `busy` and `skipped` carry no report."""

    status: str  # busy | skipped | the report's status
    report: SyncReport | None = None
    athlete_id: int | None = None
    timezone: str | None = None
    wellness: bool = True  # whether wellness was fetched (False: the cheap activity check)


def sync_account_now(
    account_id: int,
    *,
    settings: Settings | None = None,
    wellness: bool = True,
    now: datetime | None = None,
) -> LockedSync:
    """Sync one account under its lock, in a session of its own.

    `busy` when another sync holds the account (never waits), `skipped` for an account that is
    gone or needs new tokens. A wellness sync becomes the cheap activity check when last night
    is stored already. Garmin errors are the run's status, never raised.
    """
    settings = settings or get_settings()
    with account_lock(account_id, settings) as acquired:
        if not acquired:
            return LockedSync("busy")
        with session_scope(settings) as session:
            account = session.get(GarminAccount, account_id)
            if account is None or account.status == AccountStatus.NEEDS_REAUTH:
                return LockedSync("skipped")
            timezone = account.athlete.timezone
            # Last night as of `now` (not the wall clock): a caller may sync for another moment.
            if wellness and night_complete(session, account.athlete_id, local_today(timezone, now)):
                wellness = False  # last night is stored already: only look for new activities
            client = open_client(session, account, settings)
            report = sync_account(session, account, client, settings=settings, now=now, wellness=wellness)
            return LockedSync(report.status, report, account.athlete_id, timezone, wellness)
