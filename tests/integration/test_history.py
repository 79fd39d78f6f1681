"""The one history query: verdicts, leg sets, run load and wellness per local day."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from sync.db.models import WellnessDay
from sync.history import day_summaries
from sync.verdicts.compute import RUN_SPORT, compute_verdict
from testkit.factories import make_activity, make_athlete, make_sets


def test_days_carry_leg_sets_run_load_wellness_and_the_verdict(db_session: Session) -> None:
    ana = make_athlete(db_session, "ana")
    d1, d2, d3 = date(2026, 3, 8), date(2026, 3, 9), date(2026, 3, 10)
    lift = make_activity(db_session, ana, datetime(2026, 3, 9, 17, tzinfo=UTC), sport="training", trimp=30.0)
    # Their stored lower_body stays 0.0: it is not what the history counts by.
    for i, (category, kind) in enumerate(
        [
            ("squat", "active"),
            ("squat", "rest"),
            ("lunge", "active"),
            ("total_body", "active"),
            ("bench_press", "active"),
        ]
    ):
        make_sets(db_session, lift, [category], first_index=i, set_type=kind)
    make_activity(db_session, ana, datetime(2026, 3, 8, 7, tzinfo=UTC), sport=RUN_SPORT, trimp=55.5)
    make_activity(db_session, ana, datetime(2026, 3, 8, 18, tzinfo=UTC), sport=RUN_SPORT, trimp=20.0)
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
