"""Gathering a DayContext from the database, in the athlete's own time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.db.models import Athlete, VerdictRecord, WellnessDay
from sync.verdicts.compute import compute_verdict, gather_context, verdict_time
from testkit.factories import make_activity, make_athlete, make_sets


def _leg_session(session: Session, athlete: Athlete, end: datetime, sets: int = 8) -> None:
    """A one-hour strength session ending at `end`: `sets` squat sets and one unknown set."""
    start = end - timedelta(hours=1)
    act = make_activity(session, athlete, start, sport="training", sub_sport="strength_training", trimp=40.0)
    make_sets(session, act, ["squat"] * sets, weight_kg=80.0, muscle_groups=["quads"], lower_body=1.0)
    make_sets(session, act, ["unknown"], first_index=sets, reps=10)


def test_session_ended_in_utc_read_in_plus_ten(db_session: Session) -> None:
    ana = make_athlete(db_session, "ana", timezone="Australia/Brisbane")  # +10:00, no DST
    # Ends 2026-03-09 21:00 UTC = 2026-03-10 07:00 in Brisbane: after the 06:30 verdict of the 10th.
    _leg_session(db_session, ana, datetime(2026, 3, 9, 21, 0, tzinfo=UTC))
    tenth = gather_context(db_session, ana, date(2026, 3, 10))
    assert tenth.now.utcoffset() == timedelta(hours=10)
    assert tenth.strength == []  # the session had not ended yet at 06:30 local
    v10 = compute_verdict(db_session, ana, date(2026, 3, 10))
    assert v10.flag == "RUN"
    v11 = compute_verdict(db_session, ana, date(2026, 3, 11))
    assert v11.flag == "EASY" and "LEG_DAY" in v11.codes
    assert v11.numbers["hours_since_lb"] == 23.5
    assert v11.unclassified_sets == 1


def test_dst_day_counts_real_hours(db_session: Session) -> None:
    bea = make_athlete(db_session, "bea", timezone="Europe/Berlin")
    # Clocks jump 02:00 -> 03:00 on 2026-03-29. A session ending 2026-03-27 06:30 local (05:30 UTC)
    # is 47 real hours before 06:30 local on the 29th, not 48.
    _leg_session(db_session, bea, datetime(2026, 3, 27, 5, 30, tzinfo=UTC))
    assert verdict_time(bea, date(2026, 3, 29)).utcoffset() == timedelta(hours=2)
    v = compute_verdict(db_session, bea, date(2026, 3, 29))
    assert v.numbers["hours_since_lb"] == 47.0
    assert "LEG_DAY" in v.codes


def test_wellness_and_overrides_reach_the_model(db_session: Session) -> None:
    cy = make_athlete(db_session, "cy", max_hr=190, rest_hr=50)
    day = date(2026, 5, 1)
    for i in range(31):
        d = day - timedelta(days=i)
        db_session.add(
            WellnessDay(
                athlete_id=cy.id,
                date=d,
                resting_hr=50.0 if i else 56.0,
                hrv_last_night_ms=60.0,
                sleep_seconds=int(7.5 * 3600),
            )
        )
    db_session.flush()
    v = compute_verdict(db_session, cy, day)
    assert "RHR_HIGH" in v.codes and v.flag == "EASY"
    assert v.prescription.hr_cap_bpm == 148
    cy.thresholds = {"rhr_high": 7}
    db_session.flush()
    again = compute_verdict(db_session, cy, day)
    assert again.flag == "RUN"
    rows = db_session.scalars(select(VerdictRecord).where(VerdictRecord.athlete_id == cy.id)).all()
    assert len(rows) == 1 and rows[0].flag == "RUN"  # recomputed in place


def test_run_load_counts_runs_only(db_session: Session) -> None:
    dee = make_athlete(db_session, "dee")
    day = date(2026, 5, 1)
    for sport, trimp, hour in (("running", 80.0, 7), ("cycling", 150.0, 12), ("training", 40.0, 18)):
        make_activity(db_session, dee, datetime(2026, 4, 30, hour, tzinfo=UTC), sport=sport, trimp=trimp)
    ctx = gather_context(db_session, dee, day)
    assert ctx.daily_load == {date(2026, 4, 30): 80.0}


def test_a_run_later_on_day_d_does_not_change_the_morning_verdict(db_session: Session) -> None:
    eva = make_athlete(db_session, "eva")
    day = date(2026, 5, 1)
    before = gather_context(db_session, eva, day).daily_load
    make_activity(db_session, eva, datetime(2026, 5, 1, 17, 0, tzinfo=UTC), trimp=90.0)  # evening of D
    assert gather_context(db_session, eva, day).daily_load == before
    evening = gather_context(db_session, eva, day, now=datetime(2026, 5, 1, 20, 0, tzinfo=UTC))
    assert evening.daily_load == {day: 90.0}


def test_longer_threshold_windows_read_more_history(db_session: Session) -> None:
    fin = make_athlete(db_session, "fin")
    now_day = date(2026, 5, 20)
    _leg_session(db_session, fin, datetime(2026, 5, 17, 18, 30, tzinfo=UTC))  # 60 h before 06:30
    _leg_session(db_session, fin, datetime(2026, 4, 29, 18, 30, tzinfo=UTC))  # 18 days earlier
    # Default 14-day lookback: the older session is out of range, so the recent one is novel
    # and still counts at 60 h.
    assert "LEG_DAY" in compute_verdict(db_session, fin, now_day).codes
    # With a 20-day lookback the older one is a previous leg day: not novel, no LEG_DAY at 60 h.
    fin.thresholds = {"novel_lookback_days": 20}
    db_session.flush()
    assert "LEG_DAY" not in compute_verdict(db_session, fin, now_day).codes
