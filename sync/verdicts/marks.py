"""Dirty marks: which athlete-days need their verdict computed, and the local-midnight rollover.

A verdict is a function of stored inputs (activities ended by its verdict time, wellness days,
soreness, the athlete's thresholds and HR profile) and the model version, so it is computed
only when one of them changed, plus once when its day first becomes "tomorrow":

- Writers mark the athlete-days an input change touches (`mark_days`; a sync with new data
  marks today and tomorrow, a new threshold or HR profile the same); marking bumps the mark's
  `version`, and merges with a mark already there.
- At each athlete's local midnight (`roll_over`, on the indexed `athlete.next_rollover_at`) the
  new tomorrow is marked, and today when it has no verdict of the current model version (a new
  athlete, a new model).
- The dispatcher claims the marks that are due (`claim_marks`, on the indexed `due_at`) and
  queues one computation each; a computation runs only while its mark exists
  (`take_mark`, locked on PostgreSQL) and deletes it if no writer bumped it meanwhile
  (`clear_mark`). So a doubled task computes once, and a change made during a computation is
  computed again, never lost.

Library steps: the caller frames the transaction (`queue_due_verdicts` is the entry point the
worker's dispatcher calls, owning its short sessions).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, delete, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sync.config import Settings, get_settings
from sync.db.claim import PAGE, claim_due
from sync.db.models import Athlete, VerdictMark, VerdictRecord
from sync.db.session import session_scope
from sync.scheduling import local_moment, local_today

log = logging.getLogger(__name__)

HOLD_S = 600.0  # a queued computation's mark waits this long (its task expires with it)


def _upsert(session: Session):  # noqa: ANN202 - the dialect's insert construct
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(VerdictMark)
    return stmt.on_conflict_do_update(
        index_elements=["athlete_id", "date"],
        set_={
            "version": VerdictMark.version + 1,
            # The earlier of the two moments: a change is due now, even under a hold.
            "due_at": case(
                (VerdictMark.due_at < stmt.excluded.due_at, VerdictMark.due_at), else_=stmt.excluded.due_at
            ),
        },
    )


def mark_days(session: Session, athlete_id: int, days: Iterable[date], due_at: datetime) -> None:
    """Mark (athlete, day) for each of `days`: its verdict is computed once `due_at` has come."""
    rows = [{"athlete_id": athlete_id, "date": d, "version": 1, "due_at": due_at} for d in days]
    if rows:
        session.execute(_upsert(session), rows)


def mark_today_and_tomorrow(session: Session, athlete: Athlete, now: datetime) -> list[date]:
    """Mark the athlete's today and tomorrow (an input of both changed); returns the days."""
    today = local_today(athlete.timezone, now)
    days = [today, today + timedelta(days=1)]
    mark_days(session, athlete.id, days, now)
    return days


def take_mark(session: Session, athlete_id: int, day: date) -> int | None:
    """The mark's version, locked until the caller's commit (PostgreSQL); None: no mark."""
    return session.scalar(
        select(VerdictMark.version)
        .where(VerdictMark.athlete_id == athlete_id, VerdictMark.date == day)
        .with_for_update()
    )


def clear_mark(session: Session, athlete_id: int, day: date, version: int | None = None) -> None:
    """Delete the mark once its verdict is computed: only the `version` read before computing
    (a newer one means an input changed meanwhile: computed again). None: any version."""
    stmt = delete(VerdictMark).where(VerdictMark.athlete_id == athlete_id, VerdictMark.date == day)
    if version is not None:
        stmt = stmt.where(VerdictMark.version == version)
    session.execute(stmt)


def claim_marks(
    session: Session, now: datetime, *, limit: int = PAGE, hold_s: float = HOLD_S
) -> list[tuple[int, date]]:
    """(athlete id, day) of up to `limit` marks due at `now`, held for `hold_s` (sync/db/claim.py)."""
    rows = claim_due(
        session,
        VerdictMark.due_at,
        now,
        now + timedelta(seconds=hold_s),
        limit=limit,
        extra=(VerdictMark.athlete_id, VerdictMark.date),
    )
    return [(athlete_id, day) for _id, athlete_id, day in rows]


def next_midnight(timezone: str, now: datetime) -> datetime:
    """The athlete's next local midnight after `now` (DST-safe: local_moment resolves a gap)."""
    return local_moment(local_today(timezone, now) + timedelta(days=1), time(0, 0), timezone)


def roll_over(session: Session, now: datetime, *, limit: int = PAGE) -> int:
    """Mark the new tomorrow of up to `limit` athletes whose local midnight has passed (and
    today where it has no current verdict); returns how many athletes rolled over."""
    rows = claim_due(
        session,
        Athlete.next_rollover_at,
        now,
        now + timedelta(hours=1),
        limit=limit,
        extra=(Athlete.timezone,),
    )
    if not rows:
        return 0
    marks: list[dict[str, object]] = []
    nexts: list[dict[str, object]] = []
    todays: dict[int, date] = {}
    for athlete_id, timezone in rows:
        try:
            today = local_today(timezone, now)
            nexts.append({"id": athlete_id, "next_rollover_at": next_midnight(timezone, now)})
        except Exception as exc:  # noqa: BLE001 - a zone this machine lacks: that athlete only
            log.warning(
                "athlete %s: time zone %r unusable (%s): no verdict rollover", athlete_id, timezone, exc
            )
            nexts.append({"id": athlete_id, "next_rollover_at": now + timedelta(days=1)})
            continue
        todays[athlete_id] = today
        marks.append(
            {"athlete_id": athlete_id, "date": today + timedelta(days=1), "version": 1, "due_at": now}
        )
    if todays:
        from sync.readiness import MODEL_VERSION  # here: importing the marks never loads the model

        current = set(
            session.execute(
                select(VerdictRecord.athlete_id, VerdictRecord.date).where(
                    tuple_(VerdictRecord.athlete_id, VerdictRecord.date).in_(list(todays.items())),
                    VerdictRecord.model_version == MODEL_VERSION,
                )
            ).all()
        )
        for athlete_id, today in todays.items():
            if (athlete_id, today) not in current:
                marks.append({"athlete_id": athlete_id, "date": today, "version": 1, "due_at": now})
    if marks:
        session.execute(_upsert(session), marks)
    session.execute(update(Athlete), nexts)  # by primary key, one executemany
    return len(rows)


def queue_due_verdicts(
    now: datetime,
    hand_off: Callable[[int, date], None],
    *,
    settings: Settings | None = None,
    hold_s: float = HOLD_S,
) -> int:
    """Roll over the athletes whose midnight has come, then hand off every due mark, page by page
    (each page claimed and committed before its hand-offs); returns how many were handed off.

    `hand_off(athlete_id, day)` queues one computation (the worker's task, expiring after
    `hold_s`, or an in-process call): the cost is the athlete-days due, not the fleet.
    """
    settings = settings or get_settings()
    while True:
        with session_scope(settings) as session:
            if roll_over(session, now) < PAGE:
                break
    queued = 0
    while True:
        with session_scope(settings) as session:
            page = claim_marks(session, now, hold_s=hold_s)
        for athlete_id, day in page:
            hand_off(athlete_id, day)
        queued += len(page)
        if len(page) < PAGE:
            return queued
