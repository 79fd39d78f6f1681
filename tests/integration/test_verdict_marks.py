"""Verdicts are computed only when an input changed, or once when their day becomes tomorrow.

Through the worker's tasks in the embedded (eager) mode: each queued computation runs in this
process, so the rows tell how often each athlete-day was computed (`computed_at` moves on
every computation).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from sync.athletes import add_athlete, set_threshold_overrides
from sync.config import Settings
from sync.db.models import Athlete, VerdictMark, VerdictRecord
from sync.db.session import session_scope
from sync.verdicts.marks import clear_mark, mark_days, take_mark
from worker.tasks import compute_verdict, dispatch_verdicts

TZ = "Europe/Berlin"
T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # 13:00 in Berlin, 10 March


def _computed(settings: Settings) -> dict[date, datetime]:
    with session_scope(settings) as s:
        return dict(s.execute(select(VerdictRecord.date, VerdictRecord.computed_at)).all())


def _tick(at: datetime) -> int:
    return dispatch_verdicts.apply(kwargs={"now": at.isoformat()}).get()


def test_computed_once_per_change_and_once_at_midnight(db_settings: Settings) -> None:
    with session_scope(db_settings) as s:
        athlete_id = add_athlete(s, "ana", email=None, timezone=TZ).id
    today, tomorrow = date(2026, 3, 10), date(2026, 3, 11)

    assert _tick(T0) == 2  # a new athlete: today (missing) and tomorrow
    first = _computed(db_settings)
    assert set(first) == {today, tomorrow}
    for minutes in (1, 10, 60):  # nothing changed: nothing computed, however often beat ticks
        assert _tick(T0 + timedelta(minutes=minutes)) == 0
    assert _computed(db_settings) == first

    with session_scope(db_settings) as s:  # a new threshold: an input of both days
        athlete = s.get(Athlete, athlete_id)
        set_threshold_overrides(s, athlete, {"lb_sets": "8"}, None, now=T0 + timedelta(hours=1))
    assert _tick(T0 + timedelta(hours=2)) == 2
    second = _computed(db_settings)
    assert all(second[d] > first[d] for d in (today, tomorrow))
    assert _tick(T0 + timedelta(hours=2, minutes=1)) == 0

    # Berlin's midnight (23:00 UTC): only the new tomorrow; today was tomorrow already.
    assert _tick(datetime(2026, 3, 10, 22, 59, tzinfo=UTC)) == 0
    assert _tick(datetime(2026, 3, 10, 23, 0, tzinfo=UTC)) == 1
    third = _computed(db_settings)
    assert set(third) == {today, tomorrow, date(2026, 3, 12)}
    assert third[today] == second[today] and third[tomorrow] == second[tomorrow]


def test_a_doubled_task_computes_once_and_a_change_meanwhile_is_kept(db_settings: Settings) -> None:
    with session_scope(db_settings) as s:
        athlete_id = add_athlete(s, "bo", email=None, timezone="UTC").id
        mark_days(s, athlete_id, [date(2026, 3, 10)], T0)
    assert compute_verdict.apply(args=[athlete_id, "2026-03-10", True]).get() == "RUN"
    before = _computed(db_settings)
    assert compute_verdict.apply(args=[athlete_id, "2026-03-10", True]).get() is None  # no mark left
    assert _computed(db_settings) == before

    with session_scope(db_settings) as s:
        mark_days(s, athlete_id, [date(2026, 3, 11)], T0)
        version = take_mark(s, athlete_id, date(2026, 3, 11))
        mark_days(s, athlete_id, [date(2026, 3, 11)], T0)  # a writer, while it computes
        clear_mark(s, athlete_id, date(2026, 3, 11), version)
        (left,) = s.scalars(select(VerdictMark)).all()
    assert (left.date, left.version) == (date(2026, 3, 11), 2)  # computed again, not lost
