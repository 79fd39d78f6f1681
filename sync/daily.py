"""One athlete-day: gather its DayContext from the database, run the model, store the verdict.

The bridge between storage and the pure readiness model: all the I/O is here, none in
`sync/readiness`. The verdict for day D is computed at the athlete's send time on D
(06:30 local by default), which is when the morning email goes out.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.config import Settings, get_settings
from sync.db.models import Activity, Athlete, SorenessReport, StrengthSet, WellnessDay
from sync.db.models import Verdict as VerdictRow
from sync.db.upsert import upsert
from sync.errors import ConfigError
from sync.readiness import DayContext, Thresholds, Verdict, evaluate
from sync.scheduling import local_moment

HRV_LOOKBACK_DAYS = 60  # baseline window D-60..D-1
RHR_LOOKBACK_DAYS = 30
LOAD_LOOKBACK_DAYS = 60  # long enough for the 28-day chronic EWMA to settle
STRENGTH_LOOKBACK_DAYS = 17  # 72 h window plus the 14-day novelty lookback
RUN_SPORT = "running"  # run load is running only (treadmill, trail and indoor are sub-sports)


def verdict_time(athlete: Athlete, day: date) -> datetime:
    """When the verdict for `day` is taken: the athlete's send time on that local date."""
    return local_moment(day, athlete.send_time, athlete.timezone)


def _strength_sessions(session: Session, athlete: Athlete, now: datetime) -> list[dict]:
    since = now - timedelta(days=STRENGTH_LOOKBACK_DAYS)
    rows = session.execute(
        select(Activity.id, Activity.end_utc, StrengthSet)
        .join(StrengthSet, StrengthSet.activity_id == Activity.id)
        .where(Activity.athlete_id == athlete.id, Activity.end_utc > since, Activity.end_utc <= now)
        .order_by(Activity.end_utc, StrengthSet.set_index)
    ).all()
    sessions: dict[int, dict] = {}
    for activity_id, end, st in rows:
        entry = sessions.setdefault(activity_id, {"end": end.isoformat(), "sets": []})
        entry["sets"].append(
            {
                "category": st.category,
                "exercise": st.exercise,
                "reps": st.reps,
                "weight_kg": st.weight_kg,
                "set_type": st.set_type,
            }
        )
    return list(sessions.values())


def _daily_load(session: Session, athlete: Athlete, day: date) -> dict[str, float]:
    """Daily run load (Banister TRIMP of runs) by local date, for the ACWR."""
    rows = session.execute(
        select(Activity.local_date, Activity.trimp).where(
            Activity.athlete_id == athlete.id,
            Activity.sport == RUN_SPORT,
            Activity.local_date >= day - timedelta(days=LOAD_LOOKBACK_DAYS),
            Activity.local_date <= day,
            Activity.trimp.is_not(None),
        )
    ).all()
    totals: dict[str, float] = defaultdict(float)
    for local_date, trimp in rows:
        totals[local_date.isoformat()] += trimp
    return {d: round(v, 2) for d, v in sorted(totals.items())}


def gather_context(session: Session, athlete: Athlete, day: date, now: datetime | None = None) -> DayContext:
    """Build the model's input for `athlete` on local date `day` from stored data."""
    now = now or verdict_time(athlete, day)
    wellness = {
        w.date: w
        for w in session.scalars(
            select(WellnessDay).where(
                WellnessDay.athlete_id == athlete.id,
                WellnessDay.date >= day - timedelta(days=HRV_LOOKBACK_DAYS),
                WellnessDay.date <= day,
            )
        )
    }
    today = wellness.get(day)
    soreness = session.scalar(
        select(SorenessReport.value).where(
            SorenessReport.athlete_id == athlete.id, SorenessReport.date == day
        )
    )
    raw: dict = {
        "now": now.isoformat(),
        "athlete": {"sex": athlete.sex, "max_hr": athlete.max_hr, "rest_hr": athlete.rest_hr},
        "strength": _strength_sessions(session, athlete, now),
        "hrv_ms": {d.isoformat(): w.hrv_last_night_ms for d, w in wellness.items() if w.hrv_last_night_ms},
        "resting_hr": {
            d.isoformat(): w.resting_hr
            for d, w in wellness.items()
            if w.resting_hr and d >= day - timedelta(days=RHR_LOOKBACK_DAYS)
        },
        "daily_load": _daily_load(session, athlete, day),
    }
    if soreness is not None:
        raw["soreness"] = soreness
    if today is not None:
        if today.hrv_status:
            raw["hrv_status"] = today.hrv_status
        if today.sleep_seconds is not None:
            raw["sleep_hours"] = round(today.sleep_seconds / 3600.0, 2)
        if today.recovery_time_h is not None:
            raw["garmin_recovery_hours"] = today.recovery_time_h
    # Empty series mean "not known": leave them out so the model lists them as unknown.
    for key in ("hrv_ms", "resting_hr", "daily_load"):
        if not raw[key]:
            del raw[key]
    return DayContext.model_validate(raw)


def thresholds_for(athlete: Athlete, settings: Settings | None = None) -> Thresholds:
    """Defaults, then the deployment's LEGDAY_THRESHOLDS, then the athlete's own overrides."""
    settings = settings or get_settings()
    try:
        return Thresholds().with_overrides(settings.thresholds).with_overrides(athlete.thresholds or None)
    except ValueError as exc:
        raise ConfigError(f"athlete {athlete.name}: bad threshold override: {exc}") from exc


def compute_verdict(session: Session, athlete: Athlete, day: date, now: datetime | None = None) -> Verdict:
    """Gather, evaluate and store the verdict for (athlete, day); recomputing is an upsert."""
    context = gather_context(session, athlete, day, now)
    verdict = evaluate(context, thresholds_for(athlete))
    payload = verdict.to_json_dict()
    upsert(
        session,
        VerdictRow,
        {
            "athlete_id": athlete.id,
            "date": day,
            "model_version": verdict.model_version,
            "flag": payload["flag"],
            "codes": payload["codes"],
            "payload": payload,
            "computed_at": datetime.now(UTC),
        },
        ["athlete_id", "date", "model_version"],
    )
    return verdict


def record_soreness(session: Session, athlete: Athlete, day: date, value: int) -> None:
    """Store the athlete's soreness (0-10) for `day`, replacing an earlier rating."""
    if not 0 <= value <= 10:
        raise ConfigError(f"soreness must be between 0 and 10, not {value}")
    upsert(
        session,
        SorenessReport,
        {"athlete_id": athlete.id, "date": day, "value": value, "reported_at": datetime.now(UTC)},
        ["athlete_id", "date"],
    )
