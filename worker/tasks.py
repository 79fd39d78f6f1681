"""Thin tasks: glue from a message to one library call.

The base class (worker/base.py) binds the log ids, retries `TransientError`s and lost
databases with one backoff, ends the task on a `PermanentError`, and each task declares its
kind's time limits. Dispatchers and email tasks are not retried by Celery: the next beat tick,
or the delivery row's own backoff, takes them up.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from sync.config import get_settings
from sync.db.models import Athlete
from sync.db.session import session_scope
from sync.garmin_sync.due import hold_s, queue_due_syncs
from sync.garmin_sync.now import sync_account_now
from sync.notify.dispatch import dispatch_due_emails, send_due_email
from sync.notify.push.dispatch import dispatch_due_pushes, push_one
from sync.notify.senders import sender_from_settings
from sync.scheduling import local_today
from sync.verdicts.compute import compute_verdict as compute_verdict_for
from sync.verdicts.marks import queue_due_verdicts
from sync.verdicts.policy import compute_if_marked, ensure_morning_verdict_of, mark_after_sync
from sync.workouts.push import push_workout_now
from worker.app import app
from worker.base import MAX_RETRY_COUNTDOWN_S as MAX_RETRY_COUNTDOWN_S  # the policy: worker/base.py
from worker.base import limits

VERDICT_HOLD_S = 600.0  # a queued verdict task expires after this; its mark is due again then
EAGER_LOCK_WAIT_S = 120.0  # in-process (eager) push: nobody retries it later, so it waits

log = logging.getLogger(__name__)


@app.task(bind=True, **limits("verdict"))
def compute_verdict(self, athlete_id: int, day: str | None = None, marked: bool = False) -> str | None:  # noqa: ANN001
    """Compute and store the verdict of one athlete-day; returns the flag.

    `marked`: queued for a dirty mark (sync/verdicts/marks.py): computed only while the mark is
    there, so a doubled or late task computes nothing twice (None).
    """
    with session_scope() as session:
        athlete = session.get(Athlete, athlete_id)
        if athlete is None:  # deleted since the task was queued: nothing to do
            log.info("athlete gone; verdict skipped")
            return None
        the_day = date.fromisoformat(day) if day else local_today(athlete.timezone)
        if marked:
            verdict = compute_if_marked(session, athlete, the_day)
            if verdict is None:
                log.info("verdict of %s computed already; skipped", the_day)
                return None
        else:
            verdict = compute_verdict_for(session, athlete, the_day)
        flag = str(verdict.to_json_dict()["flag"])
        push = athlete.push_workouts
    if push:  # after the commit, so the push reads this verdict
        push_workout.delay(athlete_id, the_day.isoformat())
    return flag


@app.task(bind=True, max_retries=8, retry_eagerly=False, **limits("push"))
def push_workout(self, athlete_id: int, day: str) -> str:  # noqa: ANN001
    """Make the athlete's Garmin calendar for `day` match its stored verdict (opt-in).

    Safe to run twice or on two workers: the library locks the (athlete, day) row and keeps
    Garmin's ids, so a retry after a 429 finishes the work instead of repeating it. It holds the
    account's lock like a sync (a DI refresh token rotates); while another Garmin call of the
    account holds it (`AccountBusy`), the task is retried once the lease can have lapsed, never
    dropped. An in-process (eager) run waits for the lock instead, and is not retried: the next
    verdict computation pushes again.
    """
    wait_s = EAGER_LOCK_WAIT_S if self.request.is_eager else 0.0
    result = push_workout_now(athlete_id, date.fromisoformat(day), wait_s=wait_s)
    result.raise_if_deferred()
    return result.status


@app.task(autoretry_for=(), **limits("dispatch"))
def dispatch_verdicts(now: str | None = None) -> int:
    """Queue the verdicts that are due: dirty athlete-days and local midnights (O(due));
    returns how many were queued. Each task expires with its mark's hold."""
    moment = datetime.fromisoformat(now) if now else datetime.now(UTC)

    def hand_off(athlete_id: int, day: date) -> None:
        compute_verdict.apply_async((athlete_id, day.isoformat(), True), expires=VERDICT_HOLD_S)

    queued = queue_due_verdicts(moment, hand_off, hold_s=VERDICT_HOLD_S)
    log.info("verdict dispatch: %d queued", queued)
    return queued


@app.task(bind=True, **limits("sync"))
def sync_account(self, account_id: int, wellness: bool = True, now: str | None = None) -> str:  # noqa: ANN001
    """Sync one Garmin account (one at a time per account), then refresh its verdicts.

    `wellness=False` is the cheap activity check; `now` (ISO 8601) the moment to sync for (the
    dispatcher's; default the clock). The library raises what the base class retries:
    `AccountBusy` (another worker syncs it, or a killed worker's lease has not lapsed: retried
    once it can have, never dropped), `GarminDown`, a lost database (the run rolled back its
    unfinished window; failing for good would leave the account until its next wellness
    moment, hours later); `AccountNeedsReauth` ends the task. The verdicts it changed are
    marked and queued at once (sync/verdicts/policy.py).
    """
    moment = datetime.fromisoformat(now) if now else None
    started = datetime.now(UTC)  # what this run stores is received from here on
    result = sync_account_now(account_id, wellness=wellness, now=moment)
    report = result.report
    if report is None and result.status != "fresh":
        return result.status
    athlete_id, timezone, wellness = result.athlete_id, result.timezone, result.wellness
    assert athlete_id is not None and timezone is not None  # a run with a report names its athlete
    status = report.status if report is not None else result.status
    if status in ("ok", "partial", "fresh"):
        # This morning's and tomorrow's (the policy's choice); with nothing new, only those
        # missing (a killed run committed its work but never queued them).
        with session_scope() as session:
            new_data = report is not None and bool(wellness or report.activities_imported)
            days = mark_after_sync(
                session,
                athlete_id,
                timezone,
                new_data=new_data,
                now=moment or datetime.now(UTC),
                hold_s=VERDICT_HOLD_S,
                wellness=wellness,
                since=started,
            )
        for day in days:
            compute_verdict.apply_async((athlete_id, day.isoformat(), True), expires=VERDICT_HOLD_S)
    return status


@app.task(autoretry_for=(), **limits("dispatch"))
def dispatch_syncs(now: str | None = None) -> int:
    """Queue the syncs that are due (each once, O(due)); returns how many were queued.

    `now` (ISO 8601) is the moment to judge by; beat sends none: the current time.
    """
    settings = get_settings()
    moment = datetime.fromisoformat(now) if now else datetime.now(UTC)
    hold = hold_s(settings)

    def hand_off(account_id: int, wellness: bool) -> None:
        sync_account.apply_async((account_id, wellness, now), expires=hold)

    queued = queue_due_syncs(moment, hand_off, settings=settings)
    log.info("dispatch: %d syncs queued", queued)
    return queued


@app.task(bind=True, autoretry_for=(), **limits("dispatch"))
def dispatch_emails(self, now: str | None = None) -> dict[str, int]:  # noqa: ANN001
    """Send the daily emails that are due (at most once each: the delivery rows decide).

    Retries are not Celery's job here: a transient SMTP failure leaves the row in `retry` and a
    later tick takes it up after its backoff.
    """
    moment = datetime.fromisoformat(now) if now else datetime.now(UTC)

    expires = get_settings().email_claim_timeout_s  # the athlete's hold: due again after it

    def hand_off(athlete_id: int, at: datetime) -> None:
        send_daily_email.apply_async((athlete_id, at.isoformat()), expires=expires)

    # One task per athlete that may be due: a fleet's morning is sent by every worker at
    # once, and each task claims its delivery row first, so a doubled tick sends nothing twice.
    summary = dispatch_due_emails(moment, hand_off=hand_off)
    log.info("email dispatch: %d queued, %s", summary.queued, summary.line())
    return vars(summary)


@app.task(bind=True, autoretry_for=(), **limits("email"))
def send_daily_email(self, athlete_id: int, now: str) -> str:  # noqa: ANN001
    """Send one athlete's due email (or its re-auth notice), at most once; returns the outcome.

    The morning verdict is computed first when missing or stale (the verdicts package), then
    the email, which only reads it, is sent. Not retried by Celery (like the dispatcher): the
    delivery row keeps the retry state.
    """
    settings = get_settings()
    return send_due_email(
        athlete_id,
        datetime.fromisoformat(now),
        settings,
        sender_from_settings(settings),
        prepare=ensure_morning_verdict_of,
    ).value


@app.task(bind=True, autoretry_for=(), **limits("dispatch"))
def dispatch_pushes(self, now: str | None = None) -> dict[str, int]:  # noqa: ANN001
    """Queue one `send_pushes` per athlete with push messages due (their rows decide, once each).

    The messages carry ids only: a channel's URL is a secret and never enters the broker.
    """
    moment = datetime.fromisoformat(now) if now else datetime.now(UTC)

    def hand_off(athlete_id: int, at: datetime) -> None:
        send_pushes.delay(athlete_id, at.isoformat())

    summary = dispatch_due_pushes(moment, hand_off=hand_off)
    log.info("push dispatch: %d athletes queued", summary.queued)
    return vars(summary)


@app.task(bind=True, autoretry_for=(), **limits("notify"))
def send_pushes(self, athlete_id: int, now: str) -> dict[str, int]:  # noqa: ANN001
    """Send one athlete's due push messages (morning, update), at most once each per channel.

    The morning verdict is computed first when missing or stale, as for the email. Not retried
    by Celery: each delivery row keeps its own retry state.
    """
    settings = get_settings()
    summary = push_one(athlete_id, datetime.fromisoformat(now), settings, prepare=ensure_morning_verdict_of)
    return vars(summary)
