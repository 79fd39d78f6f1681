"""Thin tasks: load ids, open a session, call the library, decide retry or fail."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from sync.daily import compute_verdict as compute_verdict_for
from sync.db.models import Athlete
from sync.db.session import session_scope
from sync.errors import TransientError
from sync.scheduling import local_today
from worker.app import app


@app.task(bind=True, autoretry_for=(TransientError,), retry_backoff=30, retry_jitter=True, max_retries=5)
def compute_verdict(self, athlete_id: int, day: str | None = None) -> str | None:  # noqa: ANN001
    """Compute and store the verdict of one athlete-day; returns the flag."""
    with session_scope() as session:
        athlete = session.get(Athlete, athlete_id)
        if athlete is None:  # deleted since the task was queued: nothing to do
            return None
        the_day = date.fromisoformat(day) if day else local_today(athlete.timezone)
        return str(compute_verdict_for(session, athlete, the_day).to_json_dict()["flag"])


@app.task
def dispatch_verdicts() -> int:
    """Queue today's verdict for every athlete; returns how many were queued."""
    with session_scope() as session:
        ids = session.scalars(select(Athlete.id)).all()
    for athlete_id in ids:
        compute_verdict.delay(athlete_id)
    return len(ids)
