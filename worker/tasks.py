"""Thin tasks: load ids, open a session, call the library, decide retry or fail."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import or_, select

from sync.daily import compute_verdict as compute_verdict_for
from sync.db.models import Athlete, GarminAccount
from sync.db.session import session_scope
from sync.errors import TransientError
from sync.garmin_sync import open_client
from sync.garmin_sync import sync_account as sync_garmin_account
from sync.garmin_sync.accounts import account_for
from sync.garmin_sync.workouts import push_workout as push_workout_for
from sync.locks import exclusive
from sync.logging import log_context
from sync.notify.dispatch import dispatch_due_emails
from sync.scheduling import local_today
from worker.app import app

# Retry delays stay well under Redis' visibility timeout (1 h); longer waits (a 429 backoff)
# are left to the dispatcher, which skips rate-limited accounts until their time has come.
MAX_RETRY_COUNTDOWN_S = 600

log = logging.getLogger(__name__)


@app.task(bind=True, autoretry_for=(TransientError,), retry_backoff=30, retry_jitter=True, max_retries=5)
def compute_verdict(self, athlete_id: int, day: str | None = None) -> str | None:  # noqa: ANN001
    """Compute and store the verdict of one athlete-day; returns the flag."""
    with log_context(athlete_id=athlete_id, task_id=self.request.id), session_scope() as session:
        athlete = session.get(Athlete, athlete_id)
        if athlete is None:  # deleted since the task was queued: nothing to do
            log.info("athlete gone; verdict skipped")
            return None
        the_day = date.fromisoformat(day) if day else local_today(athlete.timezone)
        flag = str(compute_verdict_for(session, athlete, the_day).to_json_dict()["flag"])
        push = athlete.push_workouts
    if push:  # after the commit, so the push reads this verdict
        push_workout.delay(athlete_id, the_day.isoformat())
    return flag


@app.task(bind=True, max_retries=8)
def push_workout(self, athlete_id: int, day: str) -> str:  # noqa: ANN001
    """Make the athlete's Garmin calendar for `day` match its stored verdict (opt-in).

    Safe to run twice or on two workers: the library locks the (athlete, day) row and keeps
    Garmin's ids, so a retry after a 429 finishes the work instead of repeating it.
    """
    with log_context(athlete_id=athlete_id, task_id=self.request.id), session_scope() as session:
        athlete = session.get(Athlete, athlete_id)
        account = account_for(session, athlete) if athlete is not None else None
        if athlete is None or account is None or not athlete.push_workouts:
            return "skipped"
        result = push_workout_for(session, athlete, date.fromisoformat(day), open_client(session, account))
    # In-process (eager) runs do not retry: the next verdict computation pushes again.
    if result.status in ("rate_limited", "unavailable") and not self.request.is_eager:
        wait = result.retry_after_s or 60 * 2**self.request.retries
        raise self.retry(countdown=min(MAX_RETRY_COUNTDOWN_S, max(wait, 1.0)))
    return result.status


@app.task
def dispatch_verdicts() -> int:
    """Queue today's verdict for every athlete; returns how many were queued."""
    with session_scope() as session:
        ids = session.scalars(select(Athlete.id)).all()
    for athlete_id in ids:
        compute_verdict.delay(athlete_id)
    return len(ids)


@app.task(bind=True, max_retries=5)
def sync_account(self, account_id: int) -> str:  # noqa: ANN001
    """Sync one Garmin account (one at a time per account), then refresh its verdicts."""
    with (
        log_context(account_id=account_id, task_id=self.request.id),
        exclusive(f"sync:{account_id}") as acquired,
    ):
        if not acquired:
            log.info("another worker is syncing this account; skipped")
            return "busy"
        with session_scope() as session:
            account = session.get(GarminAccount, account_id)
            if account is None or account.status == "needs_reauth":
                return "skipped"
            report = sync_garmin_account(session, account, open_client(session, account))
            athlete_id, timezone = account.athlete_id, account.athlete.timezone
    if report.status == "unavailable":
        countdown = min(MAX_RETRY_COUNTDOWN_S, 60 * 2**self.request.retries)
        raise self.retry(countdown=countdown)
    if report.status in ("ok", "partial"):
        today = local_today(timezone)
        for day in (today, today + timedelta(days=1)):  # this morning's and tomorrow's
            compute_verdict.delay(athlete_id, day.isoformat())
    return report.status


@app.task
def dispatch_syncs() -> int:
    """Queue a sync for every account that is usable now; returns how many were queued."""
    now = datetime.now(UTC)
    with session_scope() as session:
        ids = session.scalars(
            select(GarminAccount.id).where(
                GarminAccount.status != "needs_reauth",
                or_(GarminAccount.rate_limited_until.is_(None), GarminAccount.rate_limited_until <= now),
            )
        ).all()
    for account_id in ids:
        sync_account.delay(account_id)
    return len(ids)


@app.task(bind=True)
def dispatch_emails(self, now: str | None = None) -> dict[str, int]:  # noqa: ANN001
    """Send the daily emails that are due (at most once each: the delivery rows decide).

    Retries are not Celery's job here: a transient SMTP failure leaves the row in `retry` and a
    later tick takes it up after its backoff.
    """
    with log_context(task_id=self.request.id):
        moment = datetime.fromisoformat(now) if now else datetime.now(UTC)
        summary = dispatch_due_emails(moment)
        log.info("email dispatch: %s", summary.line())
        return vars(summary)
