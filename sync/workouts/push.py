"""Put the prescribed run on the athlete's Garmin calendar (opt-in), exactly once per date.

`push_workout(session, athlete, day, client)` reads the verdict that counts for (athlete, day)
(`sync.verdicts.read`; an output, it never computes one):
EASY creates "legday: easy N min" (warm-up, easy run under the heart-rate cap, cool-down) and
schedules it on that date; REST and RUN remove a workout legday scheduled earlier for the
date (REST: no run; RUN: the athlete's own plan stands). Nothing else is ever deleted: legday
only touches the Garmin ids it stored on its `pushed_workout` row.

`push_workout_now(athlete_id, day)` is the worker's entry point (the demo takes the same lock
itself): it holds the account's lock (sync/garmin_sync/now.py) for the whole push, as every call that can
refresh a token must, and reads the tokens only once it holds it; it raises `AccountBusy` when
another Garmin call of the account holds it (the worker retries the task later; it is never
dropped), and `PushResult.raise_if_deferred()` turns a push Garmin put off (rate limited,
unavailable) into a `PushDeferred` for the worker to retry.

Exactly once: the row for (athlete, date) is unique and is locked (an UPDATE, which holds a
row lock on PostgreSQL and the write lock on SQLite) for the whole push, so a second worker
waits and then finds the work done. Each Garmin id is written to the row as soon as Garmin
answers, and kept when a later call fails (a 429 between create and schedule): the retry
schedules the stored workout instead of creating another. Pushing the same plan again makes
no request at all.

A lost answer never doubles it: creating and scheduling are not idempotent, so the row is
marked `creating` / `unsure` before each, and when Garmin's answer is lost (cut short, reset,
timed out: `GarminAnswerLost`) the push looks in the library / on the day's calendar and
adopts what Garmin made; a later retry of a row so marked looks first as well, and only then
sends the call again.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sync.config import Settings, get_settings
from sync.db.models import Athlete, GarminAccount, PushedWorkout
from sync.db.session import session_scope
from sync.db.statuses import PushState, SyncRunStatus
from sync.db.tx import Checkpoint, keep_progress
from sync.db.upsert import upsert
from sync.errors import TransientError
from sync.garmin.client import GarminClient
from sync.garmin.errors import GarminAnswerLost, GarminError, GarminNotFound, GarminUnavailable
from sync.garmin.source import GarminSource
from sync.garmin.workout_body import HeartRateRange, PlannedStep, RunningWorkout, StepKind
from sync.garmin_sync.accounts import account_for
from sync.garmin_sync.context import SyncOutcome
from sync.garmin_sync.guard import guarded
from sync.garmin_sync.now import AccountBusy, account_lock
from sync.garmin_sync.run import open_client
from sync.scheduling import local_today
from sync.verdicts.read import verdict_of
from sync.workouts.plan import PUSH_IMPOSSIBLE, easy_plan, step_lines

log = logging.getLogger(__name__)

_KINDS: dict[str, StepKind] = {"warmup": "warmup", "run": "interval", "cooldown": "cooldown"}


class PushDeferred(TransientError):
    """Garmin put a push off (429, unavailable): the Garmin ids it made so far are kept."""

    def __init__(self, message: str, *, retry_after: float | None, status: str) -> None:
        super().__init__(message, retry_after=retry_after)
        self.status = status


@dataclass
class PushResult:
    """What one push did, for the worker, the CLI and the demo."""

    day: date
    # scheduled | unchanged | removed | nothing | skipped | rate_limited | needs_reauth
    # | unavailable
    status: str
    message: str | None = None
    name: str | None = None
    steps: list[str] = field(default_factory=list)
    retry_after_s: float | None = None
    requests: int = 0
    account_id: int | None = None

    def raise_if_deferred(self) -> None:
        """Raise `PushDeferred` when Garmin put the push off (rate limited, unavailable)."""
        if self.status in ("rate_limited", "unavailable"):
            message = self.message or self.status
            raise PushDeferred(message, retry_after=self.retry_after_s, status=self.status)

    @property
    def done(self) -> bool:
        """True when the calendar now matches the verdict (nothing left to retry)."""
        return self.status in ("scheduled", "unchanged", "removed", "nothing", "skipped")


def running_workout(plan: dict[str, Any], day: date) -> RunningWorkout:
    """legday's stored plan as the adapter's workout."""
    steps = []
    for step in plan["steps"]:
        seconds = step["minutes"] * 60 if step.get("minutes") else None
        hr = HeartRateRange(step["hr_low"], step["hr_high"]) if step.get("hr_high") is not None else None
        steps.append(PlannedStep(_KINDS[step["kind"]], seconds, heart_rate=hr, hr_zone=step.get("hr_zone")))
    description = (
        f"legday, {day.isoformat()}: a short easy recovery run, at most {plan['minutes']} min in all. "
        "Made by legday: it is replaced or removed when the verdict changes."
    )
    return RunningWorkout(name=plan["name"], description=description, steps=tuple(steps))


def _locked_row(session: Session, athlete: Athlete, day: date) -> PushedWorkout:
    """The (athlete, day) row, created if absent, locked until the caller's next commit."""
    row_id = upsert(
        session,
        PushedWorkout,
        {"athlete_id": athlete.id, "date": day, "state": "none", "plan": {}, "attempts": 0}
        | {"updated_at": datetime.now(UTC)},
        ["athlete_id", "date"],
        update=False,
    )
    return _lock(session, row_id)


def _lock(session: Session, row_id: int) -> PushedWorkout:
    """Lock the row and read it afresh (another worker may have changed it meanwhile)."""
    # The UPDATE takes the lock; a second worker blocks here until the first one commits.
    touch = update(PushedWorkout).where(PushedWorkout.id == row_id).values(updated_at=datetime.now(UTC))
    session.execute(touch)
    return session.scalars(
        select(PushedWorkout).where(PushedWorkout.id == row_id).execution_options(populate_existing=True)
    ).one()


def _remove(client: GarminClient, session: Session, row: PushedWorkout) -> None:
    """Take legday's own workout (and only it) off the calendar and out of the library."""
    if row.garmin_schedule_id is not None:
        with suppress(GarminNotFound):  # the athlete removed it from the calendar already
            client.unschedule_workout(row.garmin_schedule_id)
        row.garmin_schedule_id = None
        session.flush()
    if row.garmin_workout_id is not None:
        with suppress(GarminNotFound):  # or deleted it from the library
            client.delete_workout(row.garmin_workout_id)
        row.garmin_workout_id = None
        session.flush()


def _recover(client: GarminClient, session: Session, row: PushedWorkout, day: date) -> bool:
    """Look at what an earlier call whose answer was lost did, and adopt it (no call re-sent);
    True when that put the workout on the calendar already.

    `creating`: a create was sent; legday's workout may be in the library without legday
    knowing its id. `unsure`: a schedule was sent; the workout may be on the calendar.
    """
    if row.state == PushState.CREATING and row.garmin_workout_id is None and row.plan:
        row.garmin_workout_id = _find_created(client, session, row)
        if row.garmin_workout_id is not None:
            log.info("workout push: adopted workout %s whose create answer was lost", row.garmin_workout_id)
        row.state = PushState.PENDING
    if row.state == PushState.UNSURE and row.garmin_workout_id is not None and row.garmin_schedule_id is None:
        row.garmin_schedule_id = _find_scheduled(client, row.garmin_workout_id, day)
        row.state = PushState.SCHEDULED if row.garmin_schedule_id is not None else PushState.PENDING
    session.flush()
    return row.state == PushState.SCHEDULED


def _find_created(client: GarminClient, session: Session, row: PushedWorkout) -> int | None:
    """legday's workout of this row in the library: its name, and no other day of legday's
    stores its id (the newest of them when a lost answer left several)."""
    taken = set(
        session.scalars(
            select(PushedWorkout.garmin_workout_id).where(
                PushedWorkout.athlete_id == row.athlete_id,
                PushedWorkout.id != row.id,
                PushedWorkout.garmin_workout_id.is_not(None),
            )
        )
    )
    found = [
        w.workout_id
        for w in client.list_workouts()
        if w.name == row.plan["name"] and w.workout_id not in taken
    ]
    return max(found) if found else None


def _find_scheduled(client: GarminClient, workout_id: int, day: date) -> int | None:
    """The calendar entry of `workout_id` on `day`, if a schedule whose answer was lost made one."""
    entries = sorted(e.schedule_id for e in client.scheduled_on(day) if e.workout_id == workout_id)
    return entries[0] if entries else None


def _sending(session: Session, row: PushedWorkout, state: str) -> None:
    """Mark the row before a call that is not idempotent: if its answer is lost, the row says to
    look first. Flushed, not committed: the row stays locked for the call (a second worker waits),
    and a lost answer's state is committed with the run's record (guard.py)."""
    row.state = state
    session.flush()


def _apply(
    client: GarminClient,
    session: Session,
    row: PushedWorkout,
    flag: str,
    plan: dict | None,
    day: date,
    checkpoint: Checkpoint,
) -> str:
    """Make the calendar match `plan` (None: no legday workout); returns the result status."""
    recovered = row.state in (PushState.CREATING, PushState.UNSURE) and _recover(client, session, row, day)
    same = plan is not None and row.name == plan["name"] and row.plan == plan
    if same and row.state == PushState.SCHEDULED and row.garmin_schedule_id is not None:
        row.flag = flag
        return "scheduled" if recovered else "unchanged"
    had_one = row.garmin_workout_id is not None or row.garmin_schedule_id is not None
    if not same:
        _remove(client, session, row)
    row.flag, row.error = flag, None
    if plan is None:
        row.state, row.name, row.plan = (
            PushState.REMOVED if had_one or row.state == PushState.REMOVED else PushState.NONE,
            None,
            {},
        )
        return "removed" if had_one else "nothing"
    row.state, row.name, row.plan = "pending", plan["name"], plan
    session.flush()
    if row.garmin_workout_id is None:
        # Creating is not idempotent: a lost answer is looked for, never sent again blindly.
        _sending(session, row, PushState.CREATING)
        try:
            row.garmin_workout_id = client.create_running_workout(running_workout(plan, day)).workout_id
        except GarminAnswerLost:
            row.garmin_workout_id = _find_created(client, session, row)
            if row.garmin_workout_id is None:
                raise  # not there (yet): the retry looks again before creating
        except GarminUnavailable:
            raise  # no usable answer (5xx): it may have been done; the retry looks first
        except GarminError:
            row.state = PushState.PENDING  # Garmin said no (429, 4xx): nothing was created
            raise
        # Kept at once (the checkpoint) so that even a crash cannot lose the id (the retry
        # schedules this workout); committing releases the lock, so take it again and look afresh.
        row.state = PushState.PENDING
        checkpoint()
        row = _lock(session, row.id)
        if row.garmin_schedule_id is not None:  # another worker scheduled it meanwhile
            return "scheduled"
    # Scheduling is not idempotent either (the same workout can sit on a date twice).
    workout_id = row.garmin_workout_id
    assert workout_id is not None  # created or found above, and kept by the checkpoint
    _sending(session, row, PushState.UNSURE)
    try:
        row.garmin_schedule_id = client.schedule_workout(workout_id, day).schedule_id
    except GarminAnswerLost:
        row.garmin_schedule_id = _find_scheduled(client, workout_id, day)
        if row.garmin_schedule_id is None:
            raise  # the retry looks at the calendar again before scheduling
    except GarminUnavailable:
        raise  # "unsure": the retry looks at the calendar first
    except GarminError:
        row.state = PushState.PENDING  # Garmin said no: nothing was scheduled
        raise
    row.state = PushState.SCHEDULED
    session.flush()
    return "scheduled"


def push_workout(
    session: Session,
    athlete: Athlete,
    day: date,
    client: GarminSource,
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
    checkpoint: Checkpoint,
) -> PushResult:
    """Make the athlete's Garmin calendar for `day` match the stored verdict (see module doc).

    Each Garmin id is kept through the caller's `checkpoint` (sync/db/tx.py) the
    moment it is known, and so is the outcome at the end.

    Skipped (no request) when push is off, the day is past, or no verdict is stored. Garmin
    errors land on the account as in a sync (a 429 sets `rate_limited_until`) and come back
    as the result's status, with the ids created so far kept for the retry.
    """
    settings = settings or get_settings()
    account = session.scalar(select(GarminAccount).where(GarminAccount.athlete_id == athlete.id))
    if account is None or not athlete.push_workouts:
        return PushResult(day, "skipped", "workout push is off or no Garmin account is linked")
    # The Personal API is read-only: not even one request. (Its capabilities say so; the
    # isinstance tells the type checker that the client left has the workout calls.)
    if not client.capabilities.writes or not isinstance(client, GarminClient):
        return PushResult(day, "skipped", PUSH_IMPOSSIBLE)
    if day < local_today(athlete.timezone, now):
        return PushResult(day, "skipped", "the day is past")
    stored = verdict_of(session, athlete.id, day)  # the one read rule (sync.verdicts.read)
    if stored is None:
        return PushResult(day, "skipped", "no verdict stored for the day")
    flag, plan = str(stored.flag), easy_plan(stored.verdict)
    report = SyncOutcome(athlete=athlete.name, kind="push")
    outcome: dict[str, str] = {}

    def body() -> None:
        row = _locked_row(session, athlete, day)
        row.attempts += 1
        try:
            outcome["status"] = _apply(client, session, row, flag, plan, day, checkpoint)
        except GarminError as exc:
            # populate_existing re-reads update the same identity-mapped object, so `row` is current.
            row.error = str(exc)[:500]  # the ids stored so far stay for the retry
            raise
        report.message = f"{flag}: {outcome['status']}"

    last_sync = account.last_sync_at
    guarded(session, account, client, report, settings, body, now, checkpoint=checkpoint)
    # The guard records a `push` run; it is not a data sync, so "last synced" must not move.
    account.last_sync_at = last_sync
    checkpoint()
    if report.status != SyncRunStatus.OK:
        return PushResult(
            day, report.status, report.message, retry_after_s=report.retry_after_s, requests=report.requests
        )
    status = outcome["status"]
    log.info("workout push for %s on %s: %s (%d requests)", athlete.name, day, status, report.requests)
    return PushResult(
        day,
        status,
        report.message,
        name=plan["name"] if plan else None,
        steps=step_lines(plan) if plan else [],
        requests=report.requests,
    )


def push_workout_now(
    athlete_id: int,
    day: date,
    *,
    settings: Settings | None = None,
    wait_s: float = 0.0,
    now: datetime | None = None,
) -> PushResult:
    """`push_workout` under the account's lock, in a session of its own (see the module doc).

    Raises `AccountBusy` when another Garmin call of the account holds the lock, after waiting
    up to `wait_s`; `skipped` when the athlete, the account or the opt-in is gone.
    """
    settings = settings or get_settings()
    with session_scope(settings) as session:
        athlete = session.get(Athlete, athlete_id)
        account = account_for(session, athlete) if athlete is not None else None
        if athlete is None or account is None or not athlete.push_workouts:
            return PushResult(day, "skipped", "workout push is off or no Garmin account is linked")
        account_id = account.id
    with account_lock(account_id, settings, wait_s=wait_s) as acquired:
        if not acquired:
            raise AccountBusy(account_id, settings)
        # A new session, begun under the lock: it reads the newest (maybe just rotated) tokens.
        with session_scope(settings) as session:
            athlete = session.get(Athlete, athlete_id)
            account = account_for(session, athlete) if athlete is not None else None
            if athlete is None or account is None:
                return PushResult(day, "skipped", "the athlete or the Garmin account is gone")
            client = open_client(session, account, settings, checkpoint=keep_progress(session))
            return push_workout(
                session, athlete, day, client, settings=settings, now=now, checkpoint=keep_progress(session)
            )
