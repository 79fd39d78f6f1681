"""Thin tasks: load ids, open a session, call the library, decide retry or fail."""

from __future__ import annotations

import hashlib
import logging
import random
import time
from datetime import UTC, date, datetime, timedelta

from celery.exceptions import MaxRetriesExceededError
from sqlalchemy import or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from sync.config import Settings, get_settings
from sync.db.models import Athlete, GarminAccount
from sync.db.session import session_scope
from sync.db.statuses import AccountStatus
from sync.errors import TransientError
from sync.garmin_sync.due import latest_slot
from sync.garmin_sync.now import account_lock_name, sync_account_now
from sync.locks import remaining_s
from sync.logging import log_context
from sync.notify.dispatch import dispatch_due_emails, dispatch_one
from sync.notify.senders import sender_from_settings
from sync.scheduling import local_today
from sync.verdicts.compute import compute_verdict as compute_verdict_for
from sync.verdicts.policy import days_after_sync, ensure_morning_verdict_of
from sync.workouts.push import push_workout_now
from worker.app import app

# Retry delays plus a task's run time stay well under Redis' visibility timeout (15 min by
# default); longer waits (a 429 backoff) are left to the dispatcher, which skips rate-limited
# accounts until their time has come.
MAX_RETRY_COUNTDOWN_S = 300
BUSY_MAX_RETRIES = 30  # about half an hour of "another worker holds this account"
EAGER_LOCK_WAIT_S = 120.0  # in-process (eager) push: nobody retries it later, so it waits

log = logging.getLogger(__name__)


# A database that went away (OperationalError) is as transient as any TransientError.
@app.task(
    bind=True,
    autoretry_for=(TransientError, OperationalError),
    retry_backoff=30,
    retry_jitter=True,
    max_retries=5,
)
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
    Garmin's ids, so a retry after a 429 finishes the work instead of repeating it. It holds the
    account's lock like a sync (a DI refresh token rotates); while another Garmin call of the
    account holds it, the task is retried once the lease can have lapsed, never dropped.
    """
    eager = self.request.is_eager
    with log_context(athlete_id=athlete_id, task_id=self.request.id):
        result = push_workout_now(
            athlete_id, date.fromisoformat(day), wait_s=EAGER_LOCK_WAIT_S if eager else 0.0
        )
    if result.status == "busy" and result.account_id is not None and not eager:
        return _retry_when_free(self, account_lock_name(result.account_id))
    # In-process (eager) runs do not retry: the next verdict computation pushes again.
    if result.status in ("rate_limited", "unavailable") and not eager:
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
def sync_account(self, account_id: int, wellness: bool = True) -> str:  # noqa: ANN001
    """Sync one Garmin account (one at a time per account), then refresh its verdicts.

    `wellness=False` is the cheap activity check. An account that another worker is syncing
    (or whose lease a killed worker still holds, for at most one lock TTL) is retried once the
    lease can have lapsed: a redelivered task is never dropped as "busy".
    """
    with log_context(account_id=account_id, task_id=self.request.id):
        try:
            result = sync_account_now(account_id, wellness=wellness)
        except OperationalError as exc:
            # The database went away mid-sync (a restart, a failover): the run rolled back its
            # unfinished window. Do it again once it is back, like a Garmin outage; failing for
            # good would leave the account until its next wellness moment, hours later.
            log.warning("sync: database unavailable (%s); retrying", type(exc.orig).__name__)
            raise self.retry(countdown=min(MAX_RETRY_COUNTDOWN_S, 10 * 2**self.request.retries)) from None
    if result.status == "busy":
        return _retry_when_free(self, account_lock_name(account_id))
    report = result.report
    if report is None:
        return result.status
    athlete_id, timezone, wellness = result.athlete_id, result.timezone, result.wellness
    if report.status == "unavailable":
        countdown = min(MAX_RETRY_COUNTDOWN_S, 60 * 2**self.request.retries)
        raise self.retry(countdown=countdown)
    if report.status in ("ok", "partial"):
        with session_scope() as session:  # this morning's and tomorrow's (the policy's choice)
            new_data = bool(wellness or report.activities_imported)
            days = days_after_sync(session, athlete_id, timezone, new_data=new_data)
        for day in days:
            compute_verdict.delay(athlete_id, day.isoformat())
    return report.status


def _retry_when_free(task, lock: str) -> str:  # noqa: ANN001 - a bound Celery task
    """Retry `task` once lock `lock` can have lapsed; gives up (logged) after BUSY_MAX_RETRIES."""
    left = remaining_s(lock)
    countdown = min(MAX_RETRY_COUNTDOWN_S, (left if left is not None else 5.0) + random.uniform(1, 5))
    try:
        raise task.retry(countdown=countdown, max_retries=BUSY_MAX_RETRIES)
    except MaxRetriesExceededError:
        log.warning("account busy after %d retries; the next dispatch queues it again", BUSY_MAX_RETRIES)
        return "busy"


class _Marks:
    """The dispatcher's marks of what it queued: SET NX in Redis, a dict in the eager mode."""

    _local: dict[str, float] = {}

    def __init__(self, settings: Settings) -> None:
        self.url = settings.redis_url
        self.ns = hashlib.sha256(settings.sqlalchemy_url.encode()).hexdigest()[:8]

    def claim(self, keys: list[tuple[str, int]]) -> list[bool]:
        """For each (key, ttl_s): True when the mark was free and is now set."""
        full = [(f"legday:due:{self.ns}:{key}", ttl) for key, ttl in keys]
        if not self.url:
            now = time.monotonic()
            out = []
            for key, ttl in full:
                free = self._local.get(key, 0.0) <= now
                if free:
                    self._local[key] = now + ttl
                out.append(free)
            return out
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            pipe = client.pipeline(transaction=False)
            for key, ttl in full:
                pipe.set(key, b"1", nx=True, ex=max(1, int(ttl)))
            return [bool(r) for r in pipe.execute()]
        finally:
            client.close()


def due_syncs(session: Session, settings: Settings, now: datetime) -> list[tuple[int, bool, str, int]]:
    """Candidates (account id, wellness?, mark key, mark ttl) of the accounts due now."""
    rows = session.execute(
        select(GarminAccount.id, GarminAccount.last_sync_at, Athlete.timezone, Athlete.send_time)
        .join(Athlete, Athlete.id == GarminAccount.athlete_id)
        .where(
            GarminAccount.status != AccountStatus.NEEDS_REAUTH,
            or_(GarminAccount.rate_limited_until.is_(None), GarminAccount.rate_limited_until <= now),
        )
    ).all()
    interval = int(settings.activity_check_interval_s)
    out: list[tuple[int, bool, str, int]] = []
    for account_id, last_sync_at, timezone, send_time in rows:
        if last_sync_at is None:  # new: at once, wellness included; again only if it got lost
            out.append((account_id, True, f"new:{account_id}", settings.visibility_timeout_s))
        # Once per wellness moment: the moment's mark (kept two days) says whether it was queued
        # (a new account's first sync claims it too, so it is not fetched twice in a row).
        slot = latest_slot(now, timezone, send_time, settings)
        out.append((account_id, True, f"full:{account_id}:{int(slot.timestamp())}", 2 * 86400))
        if last_sync_at is None:
            continue
        if last_sync_at + timedelta(seconds=interval) <= now:
            out.append((account_id, False, f"check:{account_id}", interval))
    return out


@app.task
def dispatch_syncs(now: str | None = None) -> int:
    """Queue the syncs that are due (each once); returns how many were queued.

    `now` (ISO 8601) is the moment to judge by; beat sends none: the current time.
    """
    settings = get_settings()
    moment = datetime.fromisoformat(now) if now else datetime.now(UTC)
    with session_scope() as session:
        candidates = due_syncs(session, settings, moment)
    claimed = _Marks(settings).claim([(key, ttl) for _, _, key, ttl in candidates])
    queued: set[int] = set()
    for (account_id, wellness, _, _), fresh in zip(candidates, claimed, strict=True):
        if fresh and account_id not in queued:
            expires = None if wellness else settings.activity_check_interval_s
            sync_account.apply_async((account_id, wellness), expires=expires)
            queued.add(account_id)
    # One account may be a candidate twice (its wellness moment and its activity check): count accounts.
    considered = len({account_id for account_id, *_ in candidates})
    log.info("dispatch: %d syncs queued for %d accounts considered", len(queued), considered)
    return len(queued)


@app.task(bind=True)
def dispatch_emails(self, now: str | None = None) -> dict[str, int]:  # noqa: ANN001
    """Send the daily emails that are due (at most once each: the delivery rows decide).

    Retries are not Celery's job here: a transient SMTP failure leaves the row in `retry` and a
    later tick takes it up after its backoff.
    """
    with log_context(task_id=self.request.id):
        moment = datetime.fromisoformat(now) if now else datetime.now(UTC)

        def hand_off(athlete_id: int, at: datetime) -> None:
            send_daily_email.delay(athlete_id, at.isoformat())

        # One task per athlete that may be due: a fleet's morning is sent by every worker at
        # once, and each task claims its delivery row first, so a doubled tick sends nothing twice.
        summary = dispatch_due_emails(moment, hand_off=hand_off)
        log.info("email dispatch: %d queued, %s", summary.queued, summary.line())
        return vars(summary)


@app.task(bind=True)
def send_daily_email(self, athlete_id: int, now: str) -> str:  # noqa: ANN001
    """Send one athlete's due email (or its re-auth notice), at most once; returns the outcome.

    The morning verdict is computed first when missing or stale (the verdicts package), then
    the email, which only reads it, is sent.
    """
    with log_context(athlete_id=athlete_id, task_id=self.request.id):
        settings = get_settings()
        return dispatch_one(
            athlete_id,
            datetime.fromisoformat(now),
            settings,
            sender_from_settings(settings),
            prepare=ensure_morning_verdict_of,
        ).value
