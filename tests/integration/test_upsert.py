"""`upsert_many` on SQLite and PostgreSQL: the outcome of row-by-row `upsert`, in one statement."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from sync.db.models import Athlete, WellnessDay
from sync.db.upsert import upsert, upsert_many


def _athlete(session: Session) -> int:
    return upsert(
        session,
        Athlete,
        {"name": "ana", "timezone": "UTC", "created_at": datetime(2026, 1, 1, tzinfo=UTC)},
        ["name"],
    )


def _days(session: Session) -> list[tuple[date, float | None, int | None]]:
    rows = session.execute(
        select(WellnessDay.date, WellnessDay.resting_hr, WellnessDay.sleep_score).order_by(WellnessDay.date)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_batch_upsert_is_idempotent_merges_duplicates_and_keeps_absent_columns(db_session: Session) -> None:
    aid = _athlete(db_session)
    key = ["athlete_id", "date"]
    statements: list[str] = []
    engine = db_session.get_bind()
    listen = lambda *a: statements.append(a[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(engine, "before_cursor_execute", listen)
    try:
        rows = [{"athlete_id": aid, "date": date(2026, 1, d), "resting_hr": 50 + d} for d in range(1, 11)]
        assert upsert_many(db_session, WellnessDay, rows, key) == 10
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert len([s for s in statements if s.startswith("INSERT")]) == 1  # ten rows, one statement
    assert upsert_many(db_session, WellnessDay, rows, key) == 10  # again: no duplicates
    # a later row for the same day wins, and a column a row does not carry is left alone
    later = [
        {"athlete_id": aid, "date": date(2026, 1, 1), "sleep_score": 80},
        {"athlete_id": aid, "date": date(2026, 1, 1), "resting_hr": 99},
        {"athlete_id": aid, "date": date(2026, 1, 2), "sleep_score": 70},
    ]
    assert upsert_many(db_session, WellnessDay, later, key) == 2
    days = _days(db_session)
    assert len(days) == 10
    assert days[0] == (date(2026, 1, 1), 99.0, 80)
    assert days[1] == (date(2026, 1, 2), 52.0, 70)
    # insert-if-absent: nothing stored changes, the first of duplicate new rows is kept
    absent = [
        {"athlete_id": aid, "date": date(2026, 1, 1), "resting_hr": 1},
        {"athlete_id": aid, "date": date(2026, 2, 1), "resting_hr": 2},
        {"athlete_id": aid, "date": date(2026, 2, 1), "resting_hr": 3},
    ]
    assert upsert_many(db_session, WellnessDay, absent, key, update=False) == 2
    days = _days(db_session)
    assert days[0] == (date(2026, 1, 1), 99.0, 80) and days[-1] == (date(2026, 2, 1), 2.0, None)
    assert upsert_many(db_session, WellnessDay, [], key) == 0


def test_single_upsert_returns_the_same_id_each_time(db_session: Session) -> None:
    first = _athlete(db_session)
    assert _athlete(db_session) == first
    values = {"name": "ana", "timezone": "Europe/Berlin", "created_at": datetime(2026, 1, 1, tzinfo=UTC)}
    assert upsert(db_session, Athlete, values, ["name"], update=False) == first
    assert db_session.scalar(select(Athlete.timezone)) == "UTC"
    assert upsert(db_session, Athlete, values, ["name"]) == first
    assert db_session.scalar(select(Athlete.timezone)) == "Europe/Berlin"
