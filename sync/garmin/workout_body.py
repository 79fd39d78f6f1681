"""A running workout as legday plans it, and the Garmin workout JSON built from it.

Callers describe a workout with the small dataclasses below (no Garmin field names); this
module alone turns them into the body `POST /workout-service/workout` expects (shape of
shared/garmin-connect/samples/workout_create_request.json, ids in API.md section 3.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

StepKind = Literal["warmup", "cooldown", "interval", "recovery"]

# Garmin's ids and keys (API.md 3.4). displayOrder follows the id, as in the samples.
_STEP_TYPES: dict[str, int] = {"warmup": 1, "cooldown": 2, "interval": 3, "recovery": 4}
_RUNNING = {"sportTypeId": 1, "sportTypeKey": "running", "displayOrder": 1}
_TIME = {"conditionTypeId": 2, "conditionTypeKey": "time", "displayOrder": 2, "displayable": True}
_LAP_BUTTON = {"conditionTypeId": 1, "conditionTypeKey": "lap.button", "displayOrder": 1, "displayable": True}
_NO_TARGET = {"workoutTargetTypeId": 1, "workoutTargetTypeKey": "no.target", "displayOrder": 1}
_HEART_RATE = {"workoutTargetTypeId": 4, "workoutTargetTypeKey": "heart.rate.zone", "displayOrder": 4}


@dataclass(frozen=True)
class HeartRateRange:
    """A custom heart-rate target in bpm; the watch alerts outside it."""

    low_bpm: int
    high_bpm: int


@dataclass(frozen=True)
class PlannedStep:
    """One step: how it ends (`seconds`, or the lap button when None) and its target."""

    kind: StepKind
    seconds: int | None
    heart_rate: HeartRateRange | None = None
    hr_zone: int | None = None  # Garmin's own zone number, when no bpm range is known
    description: str | None = None


@dataclass(frozen=True)
class RunningWorkout:
    """A structured running workout: a name, a description and its steps in order."""

    name: str
    description: str
    steps: tuple[PlannedStep, ...]

    @property
    def estimated_seconds(self) -> int:
        """The timed steps added up (a lap-button step counts as zero)."""
        return sum(step.seconds or 0 for step in self.steps)


def _target(step: PlannedStep) -> dict[str, Any]:
    if step.heart_rate is not None:
        # A custom range: targetValueOne/Two in bpm, no zone number (what Connect stores when
        # the athlete types a range instead of picking a zone).
        return {
            "targetType": dict(_HEART_RATE),
            "targetValueOne": float(step.heart_rate.low_bpm),
            "targetValueTwo": float(step.heart_rate.high_bpm),
            "zoneNumber": None,
        }
    if step.hr_zone is not None:
        return {"targetType": dict(_HEART_RATE), "zoneNumber": step.hr_zone}
    return {"targetType": dict(_NO_TARGET)}


def _step(order: int, step: PlannedStep) -> dict[str, Any]:
    type_id = _STEP_TYPES[step.kind]
    body: dict[str, Any] = {
        "type": "ExecutableStepDTO",
        "stepOrder": order,
        "stepType": {"stepTypeId": type_id, "stepTypeKey": step.kind, "displayOrder": type_id},
        "endCondition": dict(_TIME if step.seconds is not None else _LAP_BUTTON),
        "endConditionValue": float(step.seconds) if step.seconds is not None else None,
        **_target(step),
    }
    if step.description:
        body["description"] = step.description
    return body


def running_workout_body(workout: RunningWorkout) -> dict[str, Any]:
    """The JSON body of a workout create call for `workout`."""
    if not workout.steps:
        raise ValueError("a workout needs at least one step")
    return {
        "workoutName": workout.name,
        "description": workout.description,
        "sportType": dict(_RUNNING),
        "estimatedDurationInSecs": workout.estimated_seconds,
        "author": {},
        "workoutSegments": [
            {
                "segmentOrder": 1,
                "sportType": dict(_RUNNING),
                "workoutSteps": [_step(i, s) for i, s in enumerate(workout.steps, start=1)],
            }
        ],
    }
