"""Around every run: skip while locked out, map Garmin errors onto the account, record sync_run.

A library step: it never commits; what must outlive the run goes through the caller's
`Checkpoint` (sync/db/tx.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from sync.config import Settings
from sync.db.models import GarminAccount, SyncRun
from sync.db.statuses import AccountStatus, SyncRunStatus
from sync.db.tx import Checkpoint
from sync.garmin.backoff import next_429_backoff
from sync.garmin.errors import GarminAuthError, GarminRateLimited, GarminUnavailable
from sync.garmin.source import GarminSource
from sync.garmin_sync.context import SyncOutcome
from sync.garmin_sync.due import reschedule
from sync.garmin_sync.expiry import expire_if_ended

log = logging.getLogger(__name__)


def guarded(
    session: Session,
    account: GarminAccount,
    client: GarminSource,
    report: SyncOutcome,
    settings: Settings,
    body: Callable[[], None],
    now: datetime | None = None,
    *,
    checkpoint: Checkpoint,
) -> SyncOutcome:
    """Run `body` and map Garmin errors onto account state; record a sync_run row.

    The guard never commits itself: it keeps state through the caller's `checkpoint`
    (sync/db/tx.py) at three points: an ended credential, the clean start before
    the run (so that an aborted run rolls back only its own work), and the sync_run row,
    which must be stored however the run ended.

    Anything else that escapes `body` (Ctrl-C, a bug, a lost database) is recorded as
    `interrupted` / `failed` and raised again: a run that stopped half-way must never be
    stored as "ok". `now` stands in for the clock when deciding whether a 429 wait is over.
    """
    started = datetime.now(UTC)
    moment = now or started
    before = client.requests
    if account.status != AccountStatus.NEEDS_REAUTH and expire_if_ended(account, moment):
        checkpoint()  # the end of the credential: no call to Garmin, no retry loop
    if account.status == AccountStatus.NEEDS_REAUTH:
        report.status, report.message = SyncRunStatus.NEEDS_REAUTH, account.status_reason or "tokens rejected"
        reschedule(account, moment, settings, wellness_done=False)  # none until new tokens
        return report
    if account.rate_limited_until is not None and account.rate_limited_until > moment:
        report.status = SyncRunStatus.RATE_LIMITED
        report.retry_after_s = (account.rate_limited_until - moment).total_seconds()
        report.message = f"rate limited until {account.rate_limited_until.isoformat()}"
        reschedule(account, moment, settings, wellness_done=False)  # after the wait
        return report
    # The run keeps progress as it goes; start from a clean transaction so that a run that
    # aborts rolls back only its own unfinished work, never the caller's (a just-added account).
    checkpoint()
    try:
        if not account.display_name:
            account.display_name = client.profile().display_name
        client.display_name = account.display_name
        body()
        account.status, account.status_reason, account.backoff_s = AccountStatus.OK, None, 0.0
        account.rate_limited_until = None
    except GarminRateLimited as exc:
        wait = next_429_backoff(
            account.backoff_s or 0.0,
            exc.retry_after if exc.from_header else None,
            base_s=settings.garmin_429_backoff_s,
            cap_s=settings.garmin_429_backoff_max_s,
        )
        account.backoff_s = wait
        account.rate_limited_until = (now or datetime.now(UTC)) + timedelta(seconds=wait)
        account.status, account.status_reason = AccountStatus.RATE_LIMITED, str(exc)
        report.status, report.message, report.retry_after_s = SyncRunStatus.RATE_LIMITED, str(exc), wait
    except GarminAuthError as exc:
        account.status, account.status_reason = AccountStatus.NEEDS_REAUTH, str(exc)
        report.status, report.message = SyncRunStatus.NEEDS_REAUTH, str(exc)
    except GarminUnavailable as exc:
        report.status, report.message = SyncRunStatus.UNAVAILABLE, str(exc)
    except KeyboardInterrupt:
        report.status, report.message = SyncRunStatus.INTERRUPTED, "interrupted; run it again to resume"
        raise
    except Exception as exc:
        report.status, report.message = SyncRunStatus.FAILED, f"{type(exc).__name__}: {exc}"[:500]
        raise
    finally:
        _record_run(session, account, client, report, started, before, checkpoint, moment, settings)
    return report


def _record_run(
    session: Session,
    account: GarminAccount,
    client: GarminSource,
    report: SyncOutcome,
    started: datetime,
    requests_before: int,
    checkpoint: Checkpoint,
    moment: datetime,
    settings: Settings,
) -> None:
    """Store the sync_run row, last_sync_at and the next due times, however the run ended."""
    report.requests = client.requests - requests_before
    aborted = report.status in (SyncRunStatus.INTERRUPTED, SyncRunStatus.FAILED)
    try:
        if aborted:
            # The session may hold half a window or a failed flush: drop it. Committed
            # windows (and refreshed tokens) stay; the rest is redone on the next run.
            session.rollback()
        account.last_sync_at = datetime.now(UTC)
        served = report.kind == "sync" and report.status in (SyncRunStatus.OK, SyncRunStatus.PARTIAL)
        reschedule(account, moment, settings, wellness_done=served)
        session.add(
            SyncRun(
                athlete_id=account.athlete_id,
                kind=report.kind,
                started_at=started,
                finished_at=datetime.now(UTC),
                status=report.status,
                requests=report.requests,
                summary=report.summary(),
            )
        )
        checkpoint()
    except Exception:
        if not aborted:
            raise
        # Already on the way out with the real error: do not let this one replace it.
        log.exception("garmin: could not record the %s %s run", report.status, report.kind)
        session.rollback()
