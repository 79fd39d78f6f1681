"""The one history query: verdicts, leg sets, run load and wellness per local day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from sync.athletes import add_athlete
from sync.db.models import Activity, StrengthSet, WellnessDay
from sync.history import day_summaries
from sync.verdicts.compute import RUN_SPORT, compute_verdict


def _activity(session: Session, athlete_id: int, start: datetime, sport: str, trimp: float) -> Activity:
    act = Activity(
        athlete_id=athlete_id,
        source_id=f"test/{sport}/{start.isoformat()}",
        session_index=0,
        sport=sport,
        sub_sport="generic",
        start_utc=start,
        end_utc=start + timedelta(hours=1),
        local_date=start.date(),
        duration_s=3600,
        trimp=trimp,
    )
    session.add(act)
    session.flush()
    return act


def _set(session: Session, activity: Activity, index: int, category: str, set_type: str = "active") -> None:
    session.add(
        StrengthSet(
            activity_id=activity.id,
            set_index=index,
            category=category,
            reps=8,
            set_type=set_type,
            category_guesses=[category],
            muscle_groups=[],
            lower_body=0.0,  # the stored column is not what the history counts by
        )
    )


def test_days_carry_leg_sets_run_load_wellness_and_the_verdict(db_session: Session) -> None:
    ana = add_athlete(db_session, "ana", email=None, timezone="UTC")
    d1, d2, d3 = date(2026, 3, 8), date(2026, 3, 9), date(2026, 3, 10)
    lift = _activity(db_session, ana.id, datetime(2026, 3, 9, 17, tzinfo=UTC), "training", 30.0)
    for i, (category, kind) in enumerate(
        [
            ("squat", "active"),
            ("squat", "rest"),
            ("lunge", "active"),
            ("total_body", "active"),
            ("bench_press", "active"),
        ]
    ):
        _set(db_session, lift, i, category, kind)
    _activity(db_session, ana.id, datetime(2026, 3, 8, 7, tzinfo=UTC), RUN_SPORT, 55.5)
    _activity(db_session, ana.id, datetime(2026, 3, 8, 18, tzinfo=UTC), RUN_SPORT, 20.0)
    db_session.add(WellnessDay(athlete_id=ana.id, date=d3, hrv_last_night_ms=48.0, sleep_seconds=5 * 3600))
    db_session.flush()
    compute_verdict(db_session, ana, d3)

    rows = day_summaries(db_session, ana, d1, d3)

    assert [r.day for r in rows] == [d1, d2, d3]
    assert rows[0].run_load == 75.5 and rows[0].leg_sets == 0 and rows[0].flag is None
    assert rows[1].leg_sets == 2.5  # squat + lunge + half a total_body; rest and bench never count
    assert rows[1].run_load == 0.0  # a strength session is not run load
    assert rows[2].hrv_ms == 48.0 and rows[2].sleep_hours == 5.0
    assert rows[2].flag == "EASY" and "SLEEP_SHORT" in rows[2].codes
