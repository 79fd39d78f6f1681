"""One athlete-day: gather its DayContext from the database, run the model, store the verdict.

The compute side of `sync.verdicts` (outputs never import it: they read through
`sync.verdicts.read`).

The bridge between storage and the pure readiness model: all the I/O is here, none in
`sync/readiness`. The verdict for day D is computed at the athlete's send time on D
(06:30 local by default), which is when the morning email goes out.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.db.models import (
    Activity,
    Athlete,
    GarminAccount,
    SorenessReport,
    StrengthSet,
    VerdictRecord,
    WellnessDay,
)
from sync.db.upsert import upsert
from sync.errors import ConfigError
from sync.readiness import DayContext, Thresholds, Verdict, evaluate
from sync.readiness.thresholds import summarize_errors
from sync.scheduling import local_moment
from sync.verdicts.announced import wake_channels_of_day
from sync.verdicts.thresholds import thresholds_for

log = logging.getLogger(__name__)

RUN_SPORT = "running"  # run load is running only (treadmill, trail and indoor are sub-sports)


def verdict_time(athlete: Athlete, day: date) -> datetime:
    """When the verdict for `day` is taken: the athlete's send time on that local date."""
    return local_moment(day, athlete.send_time, athlete.timezone)


@dataclass(frozen=True)
class Lookback:
    """How far back each input is read, derived from the thresholds the model will apply, so an
    athlete's longer windows are never cut short by the query."""

    strength: timedelta
    hrv_days: int
    rhr_days: int
    load_days: int

    @classmethod
    def for_thresholds(cls, t: Thresholds) -> Lookback:
        """Windows wide enough for `t`, plus a day of margin for local-date edges."""
        return cls(
            strength=timedelta(hours=max(t.leg_window_h, t.novel_window_h), days=t.novel_lookback_days + 1),
            hrv_days=max(t.hrv_baseline_days, t.hrv_week_days) + 1,
            rhr_days=t.rhr_baseline_days + 1,
            # A chronic EWMA needs about twice its N to settle.
            load_days=max(2 * t.acwr_chronic_days, t.acwr_min_history_days) + 1,
        )


# Bounds on what one verdict reads, so its cost does not grow with the stored history: far
# above any real athlete (a few activities a day, 100-200 sets a session), reached only by data
# stored before the per-file caps (docs/fit-decoding.md). Past a bound the newest rows win.
GATHER_MAX_ACTIVITIES = 300  # activities of the strength window looked at, newest first
GATHER_MAX_SETS = 2000  # strength sets read, newest session first
GATHER_MAX_RUNS = 1000  # runs of the load window read, newest first


def _strength_sessions(session: Session, athlete: Athlete, now: datetime, back: timedelta) -> list[dict]:
    """The strength sessions that ended in (now - back, now], oldest first, with their sets.

    Every query is an index range with a limit: the newest activities of the window (on
    activity (athlete_id, end_utc)), those with sets (one index probe each), then each
    session's sets in order (on strength_set (activity_id, set_index)) until the bound.
    """
    recent = (
        select(Activity.id, Activity.end_utc)
        .where(Activity.athlete_id == athlete.id, Activity.end_utc > now - back, Activity.end_utc <= now)
        .order_by(Activity.end_utc.desc(), Activity.id.desc())
        .limit(GATHER_MAX_ACTIVITIES)
        .subquery()
    )
    with_sets = session.execute(
        select(recent.c.id, recent.c.end_utc)
        .where(select(StrengthSet.id).where(StrengthSet.activity_id == recent.c.id).exists())
        .order_by(recent.c.end_utc.desc(), recent.c.id.desc())
    ).all()
    sessions: list[dict] = []
    left = GATHER_MAX_SETS
    for activity_id, end in with_sets:
        if left <= 0:
            break
        sets = session.execute(
            select(
                StrengthSet.category,
                StrengthSet.exercise,
                StrengthSet.reps,
                StrengthSet.weight_kg,
                StrengthSet.set_type,
            )
            .where(StrengthSet.activity_id == activity_id)
            .order_by(StrengthSet.set_index)
            .limit(left)
        ).all()
        left -= len(sets)
        sessions.append({"end": end.isoformat(), "sets": [row._asdict() for row in sets]})
    sessions.reverse()
    return sessions


def _daily_load(session: Session, athlete: Athlete, day: date, now: datetime, days: int) -> dict[str, float]:
    """Daily run load (Banister TRIMP of runs) by local date, for the ACWR.

    Only runs finished by `now` count, so the verdict for D does not change when D's own run
    is synced later in the day. One index range (activity (athlete_id, sport, local_date)),
    newest first, at most GATHER_MAX_RUNS rows; the other conditions are checked here, so
    every row read counts against the bound.
    """
    rows = session.execute(
        select(Activity.local_date, Activity.trimp, Activity.end_utc)
        .where(
            Activity.athlete_id == athlete.id,
            Activity.sport == RUN_SPORT,
            Activity.local_date >= day - timedelta(days=days),
            Activity.local_date <= day,
        )
        .order_by(Activity.local_date.desc())
        .limit(GATHER_MAX_RUNS)
    ).all()
    totals: dict[str, float] = defaultdict(float)
    for local_date, trimp, end in rows:
        if trimp is not None and end <= now:
            totals[local_date.isoformat()] += trimp
    return {d: round(v, 2) for d, v in sorted(totals.items())}


def gather_context(
    session: Session,
    athlete: Athlete,
    day: date,
    now: datetime | None = None,
    thresholds: Thresholds | None = None,
) -> DayContext:
    """Build the model's input for `athlete` on local date `day` from stored data."""
    now = now or verdict_time(athlete, day)
    back = Lookback.for_thresholds(thresholds or thresholds_for(athlete))
    wellness = {
        w.date: w
        for w in session.scalars(
            select(WellnessDay).where(
                WellnessDay.athlete_id == athlete.id,
                WellnessDay.date >= day - timedelta(days=max(back.hrv_days, back.rhr_days)),
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
        "strength": _strength_sessions(session, athlete, now, back.strength),
        "hrv_ms": {
            d.isoformat(): w.hrv_last_night_ms
            for d, w in wellness.items()
            if w.hrv_last_night_ms and d >= day - timedelta(days=back.hrv_days)
        },
        "resting_hr": {
            d.isoformat(): w.resting_hr
            for d, w in wellness.items()
            if w.resting_hr and d >= day - timedelta(days=back.rhr_days)
        },
        "daily_load": _daily_load(session, athlete, day, now, back.load_days),
    }
    if soreness is not None:
        raw["soreness"] = soreness
    kind = session.scalar(select(GarminAccount.token_kind).where(GarminAccount.athlete_id == athlete.id))
    if kind == "personal_api":
        raw["garmin_personal_api"] = True  # what the verdict cannot know, it says why
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
    try:
        return DayContext.model_validate(raw)
    except ValidationError:
        # One stored value outside the model's bounds (a negative HRV kept before the adapter
        # dropped such values) must cost that value only, never the day: drop it, say why.
        _drop_out_of_range(raw, athlete.name, day)
    try:
        return DayContext.model_validate(raw)
    except ValidationError as exc:  # cannot happen once every value passed alone; one line
        raise ConfigError(
            f"athlete {athlete.name}: stored data for {day} is out of range: {summarize_errors(exc)}"
        ) from None


def _fails(now: str, key: str, value: object) -> str | None:
    """Why the model refuses `value` as the context's `key` on its own (None: it is accepted)."""
    try:
        DayContext.model_validate({"now": now, key: value})
    except ValidationError as exc:
        return summarize_errors(exc)
    return None


def _drop_out_of_range(raw: dict, name: str, day: date) -> None:
    """Remove from `raw`, in place, each value the model refuses, logging each with its reason.

    Each value is tried alone against the model's own bounds (sync/readiness/context.py), so
    the rule never drifts from the model's: a series loses one date, a scalar its key, the
    athlete one field, a strength session one set.
    """
    now = raw["now"]
    dropped: list[str] = []
    for key in [k for k in raw if k != "now"]:
        value = raw[key]
        if key == "athlete" and isinstance(value, dict):
            for field in [f for f in value if value[f] is not None]:
                reason = _fails(now, key, {field: value[field]})
                if reason:
                    dropped.append(f"athlete {field}={value[field]!r} ({reason})")
                    value[field] = None
            reason = _fails(now, key, value)
            if reason:  # each alone is fine, together not (max HR not above resting HR)
                dropped.append(f"athlete HR pair ({reason})")
                value["max_hr"] = value["rest_hr"] = None
        elif isinstance(value, dict):
            for d in list(value):
                reason = _fails(now, key, {d: value[d]})
                if reason:
                    dropped.append(f"{key} {d}={value[d]!r} ({reason})")
                    del value[d]
            if not value:
                del raw[key]
        elif key == "strength" and isinstance(value, list):
            for session in value:
                bad = [s for s in session["sets"] if _fails(now, key, [{"end": session["end"], "sets": [s]}])]
                for s in bad:
                    dropped.append(f"strength set {s!r} of {session['end']}")
                    session["sets"].remove(s)
        else:
            reason = _fails(now, key, value)
            if reason:
                dropped.append(f"{key}={value!r} ({reason})")
                del raw[key]
    for item in dropped:
        log.warning("athlete %s, %s: stored value dropped from the verdict: %s", name, day, item)


def compute_verdict(session: Session, athlete: Athlete, day: date, now: datetime | None = None) -> Verdict:
    """Gather, evaluate and store the verdict for (athlete, day); recomputing is an upsert."""
    thresholds = thresholds_for(athlete)
    context = gather_context(session, athlete, day, now, thresholds)
    verdict = evaluate(context, thresholds)
    payload = verdict.to_json_dict()
    upsert(
        session,
        VerdictRecord,
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
    wake_channels_of_day(session, athlete, day, now or datetime.now(UTC))  # an update may be due
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
