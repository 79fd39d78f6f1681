"""The entry points: a client for a stored account, the incremental sync and the backfill.

Library steps in the sense of sync/db/tx.py: they run in the caller's session and keep progress
only through the caller's `Checkpoint`; refreshed tokens go through `token_store`.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sync.config import Settings, get_settings
from sync.db.models import Activity, GarminAccount
from sync.db.statuses import SyncRunStatus
from sync.db.tx import Checkpoint
from sync.garmin.lifetime import credential_end, end_after_refresh
from sync.garmin.source import GarminSource, client_for
from sync.garmin.tokens import Tokens, seal, unseal
from sync.garmin.windows import date_windows
from sync.garmin_sync import clients
from sync.garmin_sync.activities import backfill_activities, sync_activities
from sync.garmin_sync.context import Progress, RunContext, SyncOutcome
from sync.garmin_sync.guard import guarded
from sync.garmin_sync.heart_rate import fill_max_and_rest_hr
from sync.garmin_sync.token_store import save_tokens
from sync.garmin_sync.wellness import WELLNESS_WINDOW_DAYS, sync_wellness, sync_wellness_window

log = logging.getLogger(__name__)


def open_client(
    session: Session,
    account: GarminAccount,
    settings: Settings | None = None,
    *,
    checkpoint: Checkpoint,
    reuse: bool = False,
    **kwargs: Any,
) -> GarminSource:
    """A client for a stored account (of any kind); new tokens are sealed and saved at once.

    DI refresh tokens rotate (the old one dies), so a refresh must reach the database even if
    the rest of the sync fails later: it is written on a connection of its own
    (`token_store.save_tokens`), never by committing the sync's session mid-window; only when
    the run itself holds the lock is the caller's `checkpoint` used. A
    Personal API account's bearer token is kept the same way, so the next sync does not
    exchange the key again.

    `reuse=True` (the locked runs of a worker) takes the client this process kept for the
    account when it was built from the stored tokens, and keeps a new one (garmin_sync/clients.py).
    """
    settings = settings or get_settings()
    key = (settings.sqlalchemy_url, account.id)

    def save(new: Tokens) -> None:
        ends = end_after_refresh(new) or account.credential_ends_at
        sealed = seal(settings, new)
        how = save_tokens(session, account, sealed, ends, checkpoint)
        if reuse:
            clients.keep(key, sealed, client)
        log.info("garmin: refreshed %s token saved for account %s (%s)", new.kind, account.id, how)

    hit = clients.cached(key, account.tokens_encrypted) if reuse and not kwargs else None
    if hit is not None:
        hit.on_refresh = save  # this run's session and checkpoint
        client = hit
        return client
    tokens = unseal(settings, account.token_kind, account.tokens_encrypted)
    if account.credential_ends_at is None:  # stored before legday knew (or an old backup)
        account.credential_ends_at = credential_end(tokens)
    client = client_for(tokens, settings, on_refresh=save, **kwargs)
    if reuse and not kwargs:
        clients.keep(key, account.tokens_encrypted, client)
    return client


def sync_account(
    session: Session,
    account: GarminAccount,
    client: GarminSource,
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
    wellness: bool = True,
    checkpoint: Checkpoint,
) -> SyncOutcome:
    """Incremental sync of one account: new activities, then wellness days through today.

    Progress is kept through the caller's `checkpoint` (sync/db/tx.py)
    after the activities and after each wellness window; nothing else commits.

    `wellness=False` is the cheap check a scheduler runs often: the activity list (one
    request when nothing is new) and the downloads of new activities, nothing else.
    """
    settings = settings or get_settings()
    report = SyncOutcome(athlete=account.athlete.name, kind="sync" if wellness else "check")
    run = RunContext(session, account, client, settings, report, progress, checkpoint)

    def body() -> None:
        moment = now or datetime.now(UTC)
        fill_max_and_rest_hr(run)
        sync_activities(run, moment, refresh_sets=wellness)
        run.checkpoint()  # the activities are kept even if wellness fails
        if wellness:
            sync_wellness(run, moment.astimezone(run.tz).date())

    report = guarded(session, account, client, report, settings, body, now, checkpoint=run.checkpoint)
    log.info(
        "garmin: %s of account %s %s: %d new activities (%d known, %d quarantined), "
        "%d wellness days, %d Garmin sets, %d requests",
        report.kind,
        account.id,
        report.status,
        report.activities_imported,
        report.activities_known,
        report.activities_quarantined,
        report.wellness_days,
        report.garmin_sets,
        report.requests,
    )
    return report


def advance_sync_cursors(run: RunContext, through: date) -> None:
    """After a backfill window that reached today: the incremental sync's cursors follow it.

    Never moves a cursor back; the activity cursor becomes the newest Garmin activity stored.
    """
    account = run.account
    if account.wellness_cursor is None or account.wellness_cursor < through:
        account.wellness_cursor = through
    newest = run.session.scalar(
        select(func.max(Activity.start_utc)).where(
            Activity.athlete_id == account.athlete_id, Activity.garmin_activity_id.is_not(None)
        )
    )
    if newest is not None and (account.activity_cursor is None or account.activity_cursor < newest):
        account.activity_cursor = newest


def backfill(
    session: Session,
    account: GarminAccount,
    client: GarminSource,
    since: date,
    *,
    settings: Settings | None = None,
    today: date | None = None,
    progress: Progress | None = None,
    checkpoint: Checkpoint,
) -> SyncOutcome:
    """Activities and wellness from the backfill cursor (or today) back to `since`, resumable.

    Each finished window (with the cursor below it) is kept through the caller's `checkpoint`
    (sync/db/tx.py): an interrupted backfill resumes at the next window.
    """
    settings = settings or get_settings()
    report = SyncOutcome(athlete=account.athlete.name, kind="backfill")
    run = RunContext(session, account, client, settings, report, progress, checkpoint)

    def body() -> None:
        now_day = today or datetime.now(run.tz).date()
        top = now_day
        if account.backfill_cursor is not None:
            top = min(top, account.backfill_cursor - timedelta(days=1))
        windows = list(reversed(date_windows(since, top, WELLNESS_WINDOW_DAYS)))
        for i, (lo, hi) in enumerate(windows):
            if not backfill_activities(run, lo, hi):
                report.status = SyncRunStatus.PARTIAL
                report.message = f"a download between {lo} and {hi} failed; run backfill again"
                return  # the cursor stays above this window: it is redone next time
            sync_wellness_window(run, lo, hi)
            if hi >= now_day:
                advance_sync_cursors(run, hi)  # so the next sync does not read it all again
            account.backfill_cursor = lo
            run.checkpoint()  # the resume point
            if progress:
                progress(f"{lo} .. {hi}", i + 1, len(windows))

    return guarded(session, account, client, report, settings, body, checkpoint=run.checkpoint)
