"""Start a newly connected account's first sync at once, the way the rest of legday would.

With Redis configured, the workers run syncs: the worker's own `sync_account` task is sent by
name (`sync` never imports `worker`), with the account id only, never a credential. Without
Redis (the embedded default) the sync runs in this process, under the account's lock, then
today's and tomorrow's verdicts are computed, as the worker does after a sync. If the broker
cannot be reached the dispatcher still finds the new account (it has never synced) on its next
tick. It runs after the web response, so it is an entry point and owns its sessions
(sync/db/tx.py).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sync.config import Settings
from sync.db.models import Athlete
from sync.db.session import session_scope
from sync.db.statuses import SyncRunStatus
from sync.garmin_sync.now import AccountBusy, RunStopped, sync_account_now
from sync.queue import producer
from sync.verdicts.compute import compute_verdict
from sync.verdicts.policy import days_after_sync

log = logging.getLogger(__name__)

SYNC_TASK = "worker.tasks.sync_account"  # worker/tasks.py; its route is the sync queue


def queue_first_sync(account_id: int, settings: Settings) -> bool:
    """Send the worker's sync task for the account (wellness included); False when there is no
    broker configured, or it could not be reached (then the dispatcher's next tick queues it)."""
    if not settings.redis_url:
        return False
    try:
        producer(settings.redis_url).send_task(
            SYNC_TASK, args=[account_id, True], queue=settings.sync_queue, retry=False
        )
    except Exception as exc:  # noqa: BLE001 - any broker failure means the same: the dispatcher will
        log.warning(
            "first sync of account %s not queued (%s); the dispatcher picks it up",
            account_id,
            type(exc).__name__,
        )
        return False
    log.info("first sync of account %s queued", account_id)
    return True


def run_first_sync(account_id: int, settings: Settings, *, now: datetime | None = None) -> str:
    """Sync the account here (under its lock), then compute today's and tomorrow's verdicts;
    returns the sync's status (`busy` when another sync holds the account, `failed` when it
    stopped on an error: logged by type only, and the dispatcher or the next sync tries again)."""
    try:
        return _sync_then_verdicts(account_id, settings, now)
    except Exception as exc:  # noqa: BLE001 - runs after the response: nobody else would log it
        log.warning(
            "first sync of account %s stopped (%s); the next sync retries", account_id, type(exc).__name__
        )
        return "failed"


def _sync_then_verdicts(account_id: int, settings: Settings, now: datetime | None) -> str:
    try:
        result = sync_account_now(account_id, settings=settings, now=now)
    except (AccountBusy, RunStopped) as exc:  # recorded on the account; the dispatcher retries
        return exc.status
    if result.report is None or result.status not in (SyncRunStatus.OK, SyncRunStatus.PARTIAL):
        return result.status
    with session_scope(settings) as session:
        athlete = session.get(Athlete, result.athlete_id)
        if athlete is not None:  # the after-sync policy: this morning's and tomorrow's
            for day in days_after_sync(session, athlete.id, athlete.timezone, new_data=True, now=now):
                compute_verdict(session, athlete, day)
    return result.status
