"""The exercise-category table and the lower-body rule the readiness model relies on."""

from __future__ import annotations

import pytest

from sync.fit import exercises
from sync.fit.exercises import category_name, lower_body_weight, muscle_groups

LOWER_BODY = [
    "squat",
    "deadlift",
    "lunge",
    "leg_curl",
    "calf_raise",
    "hip_raise",
    "hip_stability",
    "hip_swing",
    "plyo",
    "olympic_lift",
    "sled",
    "sandbag",
]


def test_table_covers_current_profile_0_to_53() -> None:
    ids = set(exercises.EXERCISE_CATEGORIES) - {65534}
    assert ids == set(range(54)) - {48, 51}
    assert category_name(32) == "run"
    assert category_name(33) == "bike"
    assert category_name(44) == "sandbag"
    assert category_name(45) == "sled"
    assert category_name(46) == "sledge_hammer"
    assert category_name(49) == "suspension"
    assert category_name(53) == "bike_outdoor"


def test_unknown_categories() -> None:
    assert category_name(None) == "unknown"
    assert category_name(65534) == "unknown"
    assert category_name(48) == "category_48"  # unused number: kept, never counted
    assert lower_body_weight("unknown") == 0.0
    assert lower_body_weight("category_48") == 0.0


@pytest.mark.parametrize("category", LOWER_BODY)
def test_lower_body_categories_count_one(category: str) -> None:
    assert lower_body_weight(category) == 1.0


def test_total_body_counts_half_and_everything_else_zero() -> None:
    assert lower_body_weight("total_body") == 0.5
    others = set(exercises.EXERCISE_CATEGORIES.values()) - set(LOWER_BODY) - {"total_body"}
    assert others  # bench_press, curl, warm_up, run, ...
    for name in others:
        assert lower_body_weight(name) == 0.0, name
    assert frozenset(LOWER_BODY) == exercises.LOWER_BODY_CATEGORIES


def test_every_category_has_muscle_groups() -> None:
    for name in exercises.EXERCISE_CATEGORIES.values():
        assert name in exercises.CATEGORY_MUSCLES
    assert "quadriceps" in muscle_groups("squat")
    assert muscle_groups("bench_press") == ("chest", "triceps", "shoulders")
    assert muscle_groups("unknown") == ()
    assert muscle_groups("no_such_category") == ()


def test_exercise_name_refines_groups_but_not_the_lower_body_weight() -> None:
    groups = muscle_groups("cardio", "squat_jacks")
    assert "quadriceps" in groups and "cardio" in groups
    assert lower_body_weight("cardio") == 0.0
    assert muscle_groups("curl", "barbell_biceps_curl") == muscle_groups("curl")
