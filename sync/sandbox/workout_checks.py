"""The sandbox checks a workout body the way Garmin's workout service does.

Garmin refuses a workout without a name, sport or steps, or with a step type, end condition or
target type it does not know, with a 400 and its usual error JSON
(`{"message": "HTTP 400 Bad Request", "error": "BadRequestException"}`, the shape of its 403
and 404 answers; the 400 body is modelled on them, not recorded). The ids are those of API.md
section 3.4. The first problem found is named by
`workout_problem`'s answer, which tests can call directly; the reply itself carries only
Garmin's two fields.
"""

from __future__ import annotations

from typing import Any, TypeGuard

SPORT_TYPES = frozenset(range(1, 12))  # 1 running ... 11 mobility
STEP_TYPES = frozenset(range(1, 9))  # 1 warmup ... 6 repeat, 7 other, 8 main
REPEAT_STEP_TYPE = 6
END_CONDITIONS = frozenset(range(1, 11))  # 1 lap button, 2 time, 3 distance ... 10 reps
LAP_BUTTON = 1
ITERATIONS = 7
TARGET_TYPES = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 15})
NO_TARGET = 1
HEART_RATE_ZONE = 4
STEP_KINDS = frozenset({"ExecutableStepDTO", "RepeatGroupDTO"})


def _id(value: Any, key: str) -> int | None:
    """`value[key]` when `value` is a dict holding an integer there."""
    if not isinstance(value, dict):
        return None
    got = value.get(key)
    return got if isinstance(got, int) and not isinstance(got, bool) else None


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _target_problem(step: dict[str, Any], where: str) -> str | None:
    target = _id(step.get("targetType"), "workoutTargetTypeId")
    if target is None:  # Garmin treats a missing target as "no target"
        return None if step.get("targetType") is None else f"{where}: targetType without an id"
    if target not in TARGET_TYPES:
        return f"{where}: unknown target type {target}"
    if target == NO_TARGET:
        return None
    low, high, zone = step.get("targetValueOne"), step.get("targetValueTwo"), step.get("zoneNumber")
    if zone is not None:
        if not isinstance(zone, int) or not 1 <= zone <= 5:
            return f"{where}: zoneNumber {zone!r} is not a zone 1-5"
        return None
    if not (_number(low) and _number(high)):
        return f"{where}: target type {target} needs a zoneNumber or targetValueOne/targetValueTwo"
    if low >= high:
        return f"{where}: targetValueOne must be below targetValueTwo"
    if target == HEART_RATE_ZONE and not (low >= 30 and high <= 250):
        return f"{where}: heart-rate target {low}-{high} bpm is out of range"
    return None


def _step_problem(step: Any, where: str) -> str | None:
    if not isinstance(step, dict):
        return f"{where}: a step must be an object"
    if step.get("type") not in STEP_KINDS:
        return f"{where}: type must be ExecutableStepDTO or RepeatGroupDTO"
    if _id(step, "stepOrder") is None:
        return f"{where}: stepOrder missing"
    step_type = _id(step.get("stepType"), "stepTypeId")
    if step_type not in STEP_TYPES:
        return f"{where}: unknown step type {step_type}"
    if step["type"] == "RepeatGroupDTO":
        if step_type != REPEAT_STEP_TYPE:
            return f"{where}: a repeat group must have step type 6 (repeat)"
        iterations = _id(step, "numberOfIterations")
        if iterations is None or iterations < 1:
            return f"{where}: numberOfIterations missing"
        return _steps_problem(step.get("workoutSteps"), where)
    condition = _id(step.get("endCondition"), "conditionTypeId")
    if condition not in END_CONDITIONS or condition == ITERATIONS:
        return f"{where}: unknown end condition {condition}"
    value = step.get("endConditionValue")
    if condition != LAP_BUTTON and (not _number(value) or value <= 0):
        return f"{where}: end condition {condition} needs a positive endConditionValue"
    return _target_problem(step, where)


def _steps_problem(steps: Any, where: str) -> str | None:
    if not isinstance(steps, list) or not steps:
        return f"{where}: workoutSteps must be a non-empty list"
    for i, step in enumerate(steps):
        problem = _step_problem(step, f"{where}.workoutSteps[{i}]")
        if problem:
            return problem
    return None


def workout_problem(body: Any) -> str | None:
    """The first reason Garmin would refuse `body`, or None when it is a valid workout."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    name = body.get("workoutName")
    if not isinstance(name, str) or not name.strip():
        return "workoutName missing"
    if _id(body.get("sportType"), "sportTypeId") not in SPORT_TYPES:
        return "sportType.sportTypeId missing or unknown"
    segments = body.get("workoutSegments")
    if not isinstance(segments, list) or not segments:
        return "workoutSegments must be a non-empty list"
    for i, segment in enumerate(segments):
        where = f"workoutSegments[{i}]"
        if not isinstance(segment, dict) or _id(segment, "segmentOrder") is None:
            return f"{where}: segmentOrder missing"
        if _id(segment.get("sportType"), "sportTypeId") not in SPORT_TYPES:
            return f"{where}: sportType missing or unknown"
        problem = _steps_problem(segment.get("workoutSteps"), where)
        if problem:
            return problem
    return None
