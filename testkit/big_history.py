"""Stored history built in bulk for the gathering's tests and bench/bench_fit_caps.py (athletes:
testkit.factories.make_athlete).

Rows are inserted straight into the tables (no FIT decoding), so years of training and data
only a pre-cap file could have produced (20,000 sets in one session) are quick to set up.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from itertools import count

from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session

from sync.db.models import Activity, Athlete, StrengthSet, WellnessDay

DAY = date(2026, 3, 10)
_ids = count(1)


def add_activities(session: Session, athlete: Athlete, rows: list[tuple[datetime, str, int]]) -> None:
    """Activities (start, sport, sets each) with their squat sets, inserted in bulk."""
    acts = []
    for start, sport, _ in rows:
        acts.append(
            {
                "athlete_id": athlete.id,
                "source_id": f"h/{next(_ids)}",
                "session_index": 0,
                "sport": sport,
                "start_utc": start,
                "end_utc": start + timedelta(hours=1),
                "local_date": start.date(),
                "duration_s": 3600.0,
                "trimp": 80.0 if sport == "running" else None,
            }
        )
    ids = (
        session.execute(insert(Activity).returning(Activity.id, sort_by_parameter_order=True), acts)
        .scalars()
        .all()
    )
    sets = [
        {
            "activity_id": activity_id,
            "set_index": i,
            "category": "squat",
            "category_guesses": [],
            "reps": 5,
            "weight_kg": 100.0,
            "set_type": "active",
            "muscle_groups": [],
            "lower_body": 1.0,
            "source": "fit",
        }
        for activity_id, (_, _, n) in zip(ids, rows, strict=True)
        for i in range(n)
    ]
    for chunk in range(0, len(sets), 5000):
        session.execute(insert(StrengthSet), sets[chunk : chunk + 5000])


def add_wellness(session: Session, athlete: Athlete, days: Iterable[date]) -> None:
    rows = [
        {
            "athlete_id": athlete.id,
            "date": d,
            "hrv_last_night_ms": 60.0,
            "resting_hr": 50.0,
            "sleep_seconds": 27000,
        }
        for d in days
    ]
    session.execute(insert(WellnessDay), rows)


def analyze(session: Session) -> None:
    """Tables as autovacuum keeps them in production, on PostgreSQL: no dead rows, fresh planner
    statistics.

    A VACUUM, not only an ANALYZE: the rows earlier tests on this database deleted stay behind
    as dead rows and index entries until a vacuum, and the plans (and so the rows read) then
    depend on which tests ran before: a read count of 169 rows alone, 239 or 26,138 after others.
    """
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.commit()  # VACUUM runs outside a transaction and sees committed rows only
        # A session on an engine: one bound to a connection in an outer transaction would
        # commit only a savepoint, and VACUUM on another connection could not see its rows.
        if not isinstance(bind, Engine):
            raise TypeError("analyze() needs a session bound to an engine, not to a connection")
        engine = bind
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def at(day: date, hour: int) -> datetime:
    """`hour`:00 UTC on `day`."""
    return datetime.combine(day, time(hour), UTC)


def add_old_history(session: Session, athlete: Athlete, years_back: int, day: date = DAY) -> None:
    """Three years of training ending `years_back` years before `day`: outside every window."""
    end = day - timedelta(days=365 * years_back)
    days = [end - timedelta(days=i) for i in range(3 * 365)]
    rows = [(at(d, 7), "running", 0) for d in days] + [(at(d, 18), "training", 20) for d in days]
    add_activities(session, athlete, rows)
    add_wellness(session, athlete, days)
    analyze(session)
