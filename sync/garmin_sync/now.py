"""Sync one account now, under its lock: the entry point the CLI and the worker share.

One lock per account (`account_lock`): two syncs of one account would race on its cursors and
on a rotating DI refresh token. With Redis it is a lease renewed while the holder lives; without,
a file lock in the data dir (sync/locks.py). Neither caller ever takes it any other way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sync.config import Settings, get_settings
from sync.db.models import GarminAccount
from sync.db.session import session_scope
from sync.garmin_sync.context import SyncReport
from sync.garmin_sync.run import open_client, sync_account
from sync.garmin_sync.wellness import night_complete
from sync.locks import exclusive
from sync.scheduling import local_today

__all__ = ["LockedSync", "account_lock", "account_lock_name", "sync_account_now"]


def account_lock_name(account_id: int) -> str:
    """The name of an account's sync lock (also what the worker's busy retry waits on)."""
    return f"sync:{account_id}"


@contextmanager
def account_lock(account_id: int, settings: Settings | None = None) -> Iterator[bool]:
    """Hold the account's sync lock for the `with` block; yields whether it was acquired."""
    with exclusive(account_lock_name(account_id), settings=settings) as acquired:
        yield acquired


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
            if account is None or account.status == "needs_reauth":
                return LockedSync("skipped")
            timezone = account.athlete.timezone
            # Last night as of `now` (not the wall clock): a caller may sync for another moment.
            if wellness and night_complete(session, account.athlete_id, local_today(timezone, now)):
                wellness = False  # last night is stored already: only look for new activities
            client = open_client(session, account, settings)
            report = sync_account(session, account, client, settings=settings, now=now, wellness=wellness)
            return LockedSync(report.status, report, account.athlete_id, timezone, wellness)
