"""The workout an EASY verdict prescribes, as plain data, and what legday put on the watch.

Pure data in and out (no Garmin, no Celery): the plan is built from the typed verdict; the
push (`sync.workouts.push`) turns a plan into Garmin's workout, and the email and the report
read `watch_line` to say that the run is on the athlete's calendar. Plans are JSON dicts so
they can be stored as they are on the `pushed_workout` row and compared on the next push.

The prescription says the warm-up is part of the duration cap ("at least 10 min ... part of
the 30 min"), so the timed steps add up to the cap: warm-up (the prescribed minutes), then the
easy run for the rest of the cap under the heart-rate cap, then a cool-down walk that ends with
the lap button (walking home adds no running time).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.db.models import Athlete, GarminAccount, PushedWorkout
from sync.db.statuses import PushState
from sync.readiness.verdict import Flag, Verdict

# What the CLI, the report page and the email say when push is on for an athlete connected
# through Garmin's Personal API (read-only: no workouts, no calendar).
PUSH_IMPOSSIBLE = (
    "Workout push is on, but legday cannot put a workout on your watch: your Garmin account is "
    "connected with a Personal API key, and Garmin's Personal API is read-only."
)

MIN_RUN_MINUTES = 5  # a run step shorter than this is not worth a step: the warm-up gives way
HR_RANGE_WIDTH = 25  # bpm below the cap: wide, so the watch never nags during a slow jog
HR_FLOOR = 40
GARMIN_ZONE_2 = 2  # the fallback target when the athlete's heart-rate cap is unknown


def workout_name(minutes: int) -> str:
    """The name on the watch, e.g. `legday: easy 30 min`."""
    return f"legday: easy {minutes} min"


def easy_plan(verdict: Verdict) -> dict[str, Any] | None:
    """The workout of an EASY verdict; None for RUN / REST."""
    if verdict.flag is not Flag.EASY:
        return None
    p = verdict.prescription
    cap = p.max_minutes
    if not isinstance(cap, int) or cap <= 0:
        return None
    warmup = max(int(p.warmup_minutes or 0), 0)
    if cap - warmup < MIN_RUN_MINUTES:
        warmup = max(cap - MIN_RUN_MINUTES, 0)
    run: dict[str, Any] = {"kind": "run", "minutes": cap - warmup}
    hr_cap = p.hr_cap_bpm
    if isinstance(hr_cap, int) and hr_cap > HR_FLOOR:
        run.update(hr_low=max(hr_cap - HR_RANGE_WIDTH, HR_FLOOR), hr_high=hr_cap)
    else:
        run["hr_zone"] = GARMIN_ZONE_2
    steps = [{"kind": "warmup", "minutes": warmup}] if warmup else []
    steps += [run, {"kind": "cooldown", "minutes": None}]
    return {"name": workout_name(cap), "minutes": cap, "steps": steps}


def step_line(step: dict[str, Any]) -> str:
    """One step in words, e.g. `run 20 min, heart rate 117-142 bpm`."""
    kind = step["kind"]
    if kind == "warmup":
        return f"warm-up {step['minutes']} min, very easy"
    if kind == "cooldown":
        return "cool-down walk, press lap to finish"
    line = f"easy run {step['minutes']} min"
    if step.get("hr_high") is not None:
        return f"{line}, heart rate {step['hr_low']}-{step['hr_high']} bpm"
    if step.get("hr_zone") is not None:
        return f"{line}, heart-rate zone {step['hr_zone']}"
    return line


def step_lines(plan: dict[str, Any]) -> list[str]:
    """Every step of a plan in words, in order."""
    return [step_line(s) for s in plan.get("steps", [])]


def scheduled_workout(session: Session, athlete_id: int, day: date) -> PushedWorkout | None:
    """The workout legday has on the athlete's Garmin calendar for `day`, if any."""
    row = session.scalar(
        select(PushedWorkout).where(PushedWorkout.athlete_id == athlete_id, PushedWorkout.date == day)
    )
    return row if row is not None and row.state == PushState.SCHEDULED else None


def watch_line(session: Session, athlete_id: int, day: date, flag: str) -> str | None:
    """A sentence for the email and the report when the day's run is on the watch, else None.

    Only when the stored workout follows the same flag as the verdict shown, so an email never
    announces a workout that a newer verdict is about to remove.
    """
    row = scheduled_workout(session, athlete_id, day)
    if row is None or row.flag != flag or not row.name:
        return None
    return (
        f'On your watch: "{row.name}" is on your Garmin calendar for {day.isoformat()} and shows on '
        f"the watch after its next sync. Steps: {'; '.join(step_lines(row.plan))}."
    )


def push_impossible_line(session: Session, athlete_id: int) -> str | None:
    """`PUSH_IMPOSSIBLE` when the athlete has push on but a Personal API account, else None."""
    row = session.execute(
        select(Athlete.push_workouts, GarminAccount.token_kind)
        .join(GarminAccount, GarminAccount.athlete_id == Athlete.id)
        .where(Athlete.id == athlete_id)
    ).first()
    return PUSH_IMPOSSIBLE if row is not None and row[0] and row[1] == "personal_api" else None
