"""The verdict's gathering reads only the window the model needs (issue 18, item 11).

What is measured is the database's own work, not time: on PostgreSQL the rows read (rows of
sequential scans and index entries of index scans, this transaction only), on SQLite the
virtual-machine steps of its statements (a progress handler every 100 instructions; SQLite
keeps no row counter). History outside the windows must not change it; data inside the windows
beyond what any capped file can produce (stored before the caps) is read up to a bound only.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from sync.db.models import Athlete
from sync.verdicts.compute import gather_context, verdict_time
from testkit.big_history import DAY, add_activities, add_old_history, add_wellness, analyze, at
from testkit.factories import make_athlete


def _pg_reads(session: Session) -> int:
    """Rows read so far in this transaction: by sequential scans, plus index entries read by
    index scans (each stands for one row; its heap fetch is not counted twice)."""
    tables = session.scalar(text("SELECT coalesce(sum(seq_tup_read), 0) FROM pg_stat_xact_user_tables"))
    indexes = session.scalar(
        text(
            "SELECT coalesce(sum(pg_stat_get_xact_tuples_returned(indexrelid)), 0) FROM pg_stat_user_indexes"
        )
    )
    return int(tables) + int(indexes)


def reads_of_gather(session: Session, athlete: Athlete) -> int:
    """Rows read (PostgreSQL) or VM steps / 100 (SQLite) of one `gather_context`."""
    now = verdict_time(athlete, DAY)
    if session.get_bind().dialect.name == "postgresql":
        before = _pg_reads(session)
        gather_context(session, athlete, DAY, now)
        return _pg_reads(session) - before
    raw = session.connection().connection.driver_connection
    steps = [0]

    def tick() -> int:
        steps[0] += 1
        return 0

    raw.set_progress_handler(tick, 100)
    try:
        gather_context(session, athlete, DAY, now)
    finally:
        raw.set_progress_handler(None, 100)
    return steps[0]


def test_history_outside_the_windows_costs_the_gathering_nothing(db_session: Session) -> None:
    ana = make_athlete(db_session)
    recent = [DAY - timedelta(days=i) for i in range(1, 62)]
    add_activities(db_session, ana, [(at(d, 7), "running", 0) for d in recent[:40]])
    add_activities(db_session, ana, [(at(DAY - timedelta(days=2), 18), "training", 12)])  # the leg day
    add_wellness(db_session, ana, recent)
    analyze(db_session)
    small = reads_of_gather(db_session, ana)
    context = gather_context(db_session, ana, DAY)
    assert len(context.strength) == 1 and len(context.strength[0].sets) == 12

    add_old_history(db_session, ana, years_back=1)
    add_old_history(db_session, ana, years_back=4)  # 6 years, 4,380 activities, 43,800 sets, 2,190 nights
    huge = reads_of_gather(db_session, ana)
    assert huge <= small * 1.2 + 20, (small, huge)
    assert gather_context(db_session, ana, DAY) == context


def test_excess_inside_the_windows_is_read_up_to_a_bound(db_session: Session) -> None:
    """Data no capped file can produce any more (one session of 20,000 sets, 3,000 runs on one
    day): doubling it does not change what the gathering reads."""
    ana = make_athlete(db_session)
    add_activities(db_session, ana, [(at(DAY - timedelta(days=1), 18), "training", 20_000)])
    add_activities(db_session, ana, [(at(DAY - timedelta(days=5), 7), "running", 0)] * 3000)
    analyze(db_session)
    once = reads_of_gather(db_session, ana)
    add_activities(db_session, ana, [(at(DAY - timedelta(days=2), 18), "training", 20_000)])
    add_activities(db_session, ana, [(at(DAY - timedelta(days=6), 7), "running", 0)] * 3000)
    analyze(db_session)
    twice = reads_of_gather(db_session, ana)
    assert twice <= once * 1.2 + 20, (once, twice)

    from sync.verdicts.compute import GATHER_MAX_RUNS, GATHER_MAX_SETS

    context = gather_context(db_session, ana, DAY)
    assert context.strength is not None and context.daily_load is not None
    # the newest sets are the ones read: yesterday's session, cut at the bound
    assert sum(len(s.sets) for s in context.strength) == GATHER_MAX_SETS
    assert context.strength[-1].end == at(DAY - timedelta(days=1), 19)
    assert set(context.daily_load) <= {DAY - timedelta(days=5), DAY - timedelta(days=6)}
    if db_session.get_bind().dialect.name == "postgresql":
        # rows read: the sets and runs up to the bounds, their activities, and a little more
        assert twice <= 3 * (GATHER_MAX_SETS + GATHER_MAX_RUNS), twice
