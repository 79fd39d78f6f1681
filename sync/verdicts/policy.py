"""When verdicts are (re)computed: after a sync, before the morning email, after a check-in.

The compute side's policies, each one library call so the worker, the CLI, the web server and
the demo never hold their own: `days_after_sync` (this morning's and tomorrow's; marked and
held by `mark_after_sync`, computed by `compute_if_marked`: sync/verdicts/marks.py),
`ensure_morning_verdict` (the email's verdict exists and is fresh before it is sent) and
`record_soreness_and_recompute` (one check-in, whichever way it comes, re-pushing the workout).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from sync.config import Settings, get_settings
from sync.db.models import Activity, Athlete, RawFile, VerdictMark
from sync.db.session import session_scope
from sync.queue import producer
from sync.readiness import MODEL_VERSION, Verdict
from sync.scheduling import local_moment, local_today
from sync.verdicts.compute import compute_verdict, record_soreness, verdict_time
from sync.verdicts.marks import HOLD_S, clear_mark, mark_days, take_mark
from sync.verdicts.read import StoredVerdict, missing_days, verdict_of

log = logging.getLogger(__name__)

PUSH_TASK = "worker.tasks.push_workout"  # worker/tasks.py, sent by name (sync never imports worker)
_PENDING_PUSHES = "legday_pending_pushes"  # session.info key: (athlete id, day) to push at commit


def days_after_sync(
    session: Session,
    athlete_id: int,
    timezone: str,
    *,
    new_data: bool,
    now: datetime | None = None,
    wellness: bool = True,
    since: datetime | None = None,
) -> list[date]:
    """The days whose verdict a finished sync must (re)compute: this morning's and tomorrow's.

    Without new data only the missing ones: a run killed after committing its work but before
    queueing these (SIGKILL, OOM) left them missing, and its redelivery finds nothing new.
    A run that fetched no wellness (`wellness=False`) and stored its activities since `since`
    leaves this morning's alone unless one of them ended by this morning's verdict time: the
    verdict of a day counts only what ended by then (sync/verdicts/compute.py).
    """
    today = local_today(timezone, now)
    days = [today, today + timedelta(days=1)]
    if not new_data:
        return missing_days(session, athlete_id, days)
    if not wellness and since is not None and not _stored_since_ended_by(session, athlete_id, today, since):
        return [today + timedelta(days=1)]
    return days


def _stored_since_ended_by(session: Session, athlete_id: int, day: date, since: datetime) -> bool:
    """Whether an activity stored at or after `since` ended by `day`'s verdict time (one index
    range on activity (athlete_id, end_utc), a few days wide)."""
    athlete = session.get(Athlete, athlete_id)
    if athlete is None:
        return False
    until = verdict_time(athlete, day)
    found = session.scalar(
        select(Activity.id)
        .join(RawFile, RawFile.id == Activity.raw_file_id)
        .where(
            Activity.athlete_id == athlete_id,
            Activity.end_utc <= until,
            Activity.end_utc > until - timedelta(days=2),
            RawFile.received_at >= since,
        )
        .limit(1)
    )
    return found is not None


def mark_after_sync(
    session: Session,
    athlete_id: int,
    timezone: str,
    *,
    new_data: bool,
    now: datetime,
    hold_s: float = HOLD_S,
    wellness: bool = True,
    since: datetime | None = None,
) -> list[date]:
    """Mark the days a finished sync must (re)compute (`days_after_sync`) and hold them for the
    caller, which queues their computation at once (expiring after `hold_s`; should it be
    lost, the dispatcher queues them once the hold is over). Returns the days."""
    days = days_after_sync(
        session, athlete_id, timezone, new_data=new_data, now=now, wellness=wellness, since=since
    )
    mark_days(session, athlete_id, days, now + timedelta(seconds=hold_s))
    return days


def compute_if_marked(session: Session, athlete: Athlete, day: date) -> Verdict | None:
    """Compute the verdict of a marked athlete-day and clear its mark; None when no mark is left
    (another computation did it since the task was queued: nothing is computed twice)."""
    version = take_mark(session, athlete.id, day)
    if version is None:
        return None
    verdict = compute_verdict(session, athlete, day)
    clear_mark(session, athlete.id, day, version)
    return verdict


def morning_is_fresh(stored: StoredVerdict | None, athlete: Athlete, day: date) -> bool:
    """Whether `stored` can be the morning email's verdict of `day`: of the current model
    version and computed at or after the athlete's send time on `day` (so it has the night)."""
    return (
        stored is not None
        and stored.model_version == MODEL_VERSION
        and stored.computed_at >= verdict_time(athlete, day)
    )


def _unchanged_since_wake(
    session: Session, stored: StoredVerdict | None, athlete: Athlete, day: date
) -> bool:
    """Whether `stored` was computed this morning after the athlete's wake time (the night's
    sync computes it then) and no input changed since: no dirty mark is pending for the day.
    A verdict counts only what ended by its verdict time, so computing it again at the send
    time would give the same verdict (sync/verdicts/marks.py)."""
    if stored is None or stored.model_version != MODEL_VERSION:
        return False
    wake = local_moment(day, get_settings().wake_time, athlete.timezone)
    if stored.computed_at < wake:
        return False
    pending = session.scalar(
        select(VerdictMark.id).where(VerdictMark.athlete_id == athlete.id, VerdictMark.date == day)
    )
    return pending is None


def ensure_morning_verdict(session: Session, athlete: Athlete, day: date) -> bool:
    """Compute (and store) the verdict of `day` unless a fresh morning one is stored; True when
    it computed. The email reads it afterwards (`sync.verdicts.read`)."""
    stored = verdict_of(session, athlete.id, day)
    if morning_is_fresh(stored, athlete, day) or _unchanged_since_wake(session, stored, athlete, day):
        return False
    compute_verdict(session, athlete, day)
    session.flush()
    return True


def ensure_morning_verdict_of(athlete_id: int, day: date, settings: Settings | None = None) -> bool:
    """`ensure_morning_verdict` in a transaction of its own (the email dispatcher's hook)."""
    with session_scope(settings or get_settings()) as session:
        athlete = session.get(Athlete, athlete_id)
        return ensure_morning_verdict(session, athlete, day) if athlete is not None else False


def record_soreness_and_recompute(
    session: Session, athlete: Athlete, day: date, value: int, settings: Settings | None = None
) -> StoredVerdict:
    """One soreness check-in (CLI, API, page form, email link): store the rating, recompute the
    day's verdict and return it; with workout push on, the day's workout is re-pushed as soon as
    the caller commits (a check-in that turns EASY into REST takes the run off the watch now,
    not at the next verdict sweep)."""
    record_soreness(session, athlete, day, value)
    compute_verdict(session, athlete, day)
    session.flush()
    if athlete.push_workouts:
        _push_at_commit(session, athlete.id, day, settings or get_settings())
    stored = verdict_of(session, athlete.id, day)
    assert stored is not None  # just computed
    return stored


def _push_at_commit(session: Session, athlete_id: int, day: date, settings: Settings) -> None:
    """Re-push (athlete, day) once `session` commits, so the push reads the new verdict."""
    pending: set[tuple[int, date]] | None = session.info.get(_PENDING_PUSHES)
    if pending is None:
        pending = session.info[_PENDING_PUSHES] = set()

        def after_commit(s: Session) -> None:
            for athlete_id_, day_ in sorted(s.info.pop(_PENDING_PUSHES, set())):
                repush(athlete_id_, day_, settings)
            event.remove(s, "after_rollback", after_rollback)

        def after_rollback(s: Session) -> None:
            s.info.pop(_PENDING_PUSHES, None)
            event.remove(s, "after_commit", after_commit)

        event.listen(session, "after_commit", after_commit, once=True)
        event.listen(session, "after_rollback", after_rollback, once=True)
    pending.add((athlete_id, day))


def repush(athlete_id: int, day: date, settings: Settings) -> None:
    """Make the athlete's calendar of `day` follow its verdict now: the worker's push task, sent
    by name, when Redis is configured; otherwise in this process (the embedded default)."""
    if settings.redis_url:
        try:
            producer(settings.redis_url).send_task(
                PUSH_TASK, args=[athlete_id, day.isoformat()], queue=settings.queue, retry=False
            )
            return
        except Exception as exc:  # noqa: BLE001 - the verdict sweep pushes later; never fail a check-in
            log.warning("workout re-push not queued (%s); the verdict sweep pushes it", type(exc).__name__)
            return
    from sync.workouts.push import push_workout_now  # the output that follows the verdict

    try:
        result = push_workout_now(athlete_id, day, settings=settings, wait_s=EAGER_PUSH_WAIT_S)
    except Exception as exc:  # noqa: BLE001 - runs after the commit: the check-in stands
        log.warning("workout re-push stopped (%s); the verdict sweep pushes it", type(exc).__name__)
        return
    log.info("workout re-push after a check-in: %s", result.status)


EAGER_PUSH_WAIT_S = 30.0  # in-process: wait a little for a sync holding the account's lock
