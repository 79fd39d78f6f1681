"""Gathering a DayContext from the database, in the athlete's own time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.athletes import add_athlete
from sync.db.models import Activity, StrengthSet, VerdictRecord, WellnessDay
from sync.verdicts.compute import compute_verdict, gather_context, verdict_time


def _leg_session(session: Session, athlete_id: int, end: datetime, sets: int = 8) -> None:
    start = end - timedelta(hours=1)
    act = Activity(
        athlete_id=athlete_id,
        source_id=f"test/{end.isoformat()}",
        session_index=0,
        sport="training",
        sub_sport="strength_training",
        start_utc=start,
        end_utc=end,
        local_date=start.date(),
        duration_s=3600,
        trimp=40.0,
    )
    session.add(act)
    session.flush()
    for i in range(sets):
        session.add(
            StrengthSet(
                activity_id=act.id,
                set_index=i,
                category="squat",
                reps=8,
                weight_kg=80.0,
                set_type="active",
                category_guesses=["squat"],
                muscle_groups=["quads"],
                lower_body=1.0,
            )
        )
    session.add(
        StrengthSet(
            activity_id=act.id,
            set_index=sets,
            category="unknown",
            reps=10,
            set_type="active",
            category_guesses=["unknown"],
            muscle_groups=[],
            lower_body=0.0,
        )
    )
    session.flush()


def test_session_ended_in_utc_read_in_plus_ten(db_session: Session) -> None:
    ana = add_athlete(db_session, "ana", email=None, timezone="Australia/Brisbane")  # +10:00, no DST
    # Ends 2026-03-09 21:00 UTC = 2026-03-10 07:00 in Brisbane: after the 06:30 verdict of the 10th.
    _leg_session(db_session, ana.id, datetime(2026, 3, 9, 21, 0, tzinfo=UTC))
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
    bea = add_athlete(db_session, "bea", email=None, timezone="Europe/Berlin")
    # Clocks jump 02:00 -> 03:00 on 2026-03-29. A session ending 2026-03-27 06:30 local (05:30 UTC)
    # is 47 real hours before 06:30 local on the 29th, not 48.
    _leg_session(db_session, bea.id, datetime(2026, 3, 27, 5, 30, tzinfo=UTC))
    assert verdict_time(bea, date(2026, 3, 29)).utcoffset() == timedelta(hours=2)
    v = compute_verdict(db_session, bea, date(2026, 3, 29))
    assert v.numbers["hours_since_lb"] == 47.0
    assert "LEG_DAY" in v.codes


def test_wellness_and_overrides_reach_the_model(db_session: Session) -> None:
    cy = add_athlete(db_session, "cy", email=None, timezone="UTC", max_hr=190, rest_hr=50)
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
    dee = add_athlete(db_session, "dee", email=None, timezone="UTC")
    day = date(2026, 5, 1)
    for sport, trimp, hour in (("running", 80.0, 7), ("cycling", 150.0, 12), ("training", 40.0, 18)):
        start = datetime(2026, 4, 30, hour, tzinfo=UTC)
        db_session.add(
            Activity(
                athlete_id=dee.id,
                source_id=f"t/{sport}",
                session_index=0,
                sport=sport,
                start_utc=start,
                end_utc=start + timedelta(hours=1),
                local_date=start.date(),
                duration_s=3600,
                trimp=trimp,
            )
        )
    db_session.flush()
    ctx = gather_context(db_session, dee, day)
    assert ctx.daily_load == {date(2026, 4, 30): 80.0}


def test_a_run_later_on_day_d_does_not_change_the_morning_verdict(db_session: Session) -> None:
    eva = add_athlete(db_session, "eva", email=None, timezone="UTC")
    day = date(2026, 5, 1)
    before = gather_context(db_session, eva, day).daily_load
    start = datetime(2026, 5, 1, 17, 0, tzinfo=UTC)  # an evening run on D itself
    db_session.add(
        Activity(
            athlete_id=eva.id,
            source_id="late/0",
            session_index=0,
            sport="running",
            start_utc=start,
            end_utc=start + timedelta(hours=1),
            local_date=day,
            duration_s=3600,
            trimp=90.0,
        )
    )
    db_session.flush()
    assert gather_context(db_session, eva, day).daily_load == before
    evening = gather_context(db_session, eva, day, now=datetime(2026, 5, 1, 20, 0, tzinfo=UTC))
    assert evening.daily_load == {day: 90.0}


def test_longer_threshold_windows_read_more_history(db_session: Session) -> None:
    fin = add_athlete(db_session, "fin", email=None, timezone="UTC")
    now_day = date(2026, 5, 20)
    _leg_session(db_session, fin.id, datetime(2026, 5, 17, 18, 30, tzinfo=UTC))  # 60 h before 06:30
    _leg_session(db_session, fin.id, datetime(2026, 4, 29, 18, 30, tzinfo=UTC))  # 18 days earlier
    # Default 14-day lookback: the older session is out of range, so the recent one is novel
    # and still counts at 60 h.
    assert "LEG_DAY" in compute_verdict(db_session, fin, now_day).codes
    # With a 20-day lookback the older one is a previous leg day: not novel, no LEG_DAY at 60 h.
    fin.thresholds = {"novel_lookback_days": 20}
    db_session.flush()
    assert "LEG_DAY" not in compute_verdict(db_session, fin, now_day).codes
