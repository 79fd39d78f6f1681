"""FIT exercise categories (current FIT SDK profile, 0-53) and the muscles they train.

The watch stores a strength set's exercise as a ranked tuple of category guesses
(`set.category`); fitparse 1.2.0 only knows categories up to 32 (`run`), so the whole table
lives here. Which categories count as lower-body work is the readiness model's contract
(`scenarios/README.md`, "Lower-body categories"): the list below must match it exactly.
"""

from __future__ import annotations

from collections.abc import Iterable

UNKNOWN = "unknown"
UNKNOWN_CATEGORY_ID = 65534

# FIT `exercise_category` enum. 48 and 51 are unused in the profile.
EXERCISE_CATEGORIES: dict[int, str] = {
    0: "bench_press",
    1: "calf_raise",
    2: "cardio",
    3: "carry",
    4: "chop",
    5: "core",
    6: "crunch",
    7: "curl",
    8: "deadlift",
    9: "flye",
    10: "hip_raise",
    11: "hip_stability",
    12: "hip_swing",
    13: "hyperextension",
    14: "lateral_raise",
    15: "leg_curl",
    16: "leg_raise",
    17: "lunge",
    18: "olympic_lift",
    19: "plank",
    20: "plyo",
    21: "pull_up",
    22: "push_up",
    23: "row",
    24: "shoulder_press",
    25: "shoulder_stability",
    26: "shrug",
    27: "sit_up",
    28: "squat",
    29: "total_body",
    30: "triceps_extension",
    31: "warm_up",
    32: "run",
    33: "bike",
    34: "cardio_sensors",
    35: "move",
    36: "pose",
    37: "banded_exercises",
    38: "battle_rope",
    39: "elliptical",
    40: "floor_climb",
    41: "indoor_bike",
    42: "indoor_row",
    43: "ladder",
    44: "sandbag",
    45: "sled",
    46: "sledge_hammer",
    47: "stair_stepper",
    49: "suspension",
    50: "tire",
    52: "run_indoor",
    53: "bike_outdoor",
    UNKNOWN_CATEGORY_ID: UNKNOWN,
}
CATEGORY_IDS: dict[str, int] = {name: num for num, name in EXERCISE_CATEGORIES.items()}

# Categories that load the legs: one full lower-body set each (scenarios/README.md).
LOWER_BODY_CATEGORIES: frozenset[str] = frozenset(
    {
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
    }
)
# Categories that load the legs partly: half a lower-body set.
HALF_LOWER_BODY_CATEGORIES: frozenset[str] = frozenset({"total_body"})

LEGS = ("quadriceps", "hamstrings", "glutes", "calves")

# Primary muscle groups per category. Coarse on purpose: the readiness model only needs
# "does this set load the legs"; the groups are for display and per-exercise refinement.
CATEGORY_MUSCLES: dict[str, tuple[str, ...]] = {
    "bench_press": ("chest", "triceps", "shoulders"),
    "calf_raise": ("calves",),
    "cardio": ("cardio",),
    "carry": ("forearms", "traps", "core"),
    "chop": ("core", "obliques"),
    "core": ("core",),
    "crunch": ("abs",),
    "curl": ("biceps", "forearms"),
    "deadlift": ("hamstrings", "glutes", "lower_back", "quadriceps"),
    "flye": ("chest", "shoulders"),
    "hip_raise": ("glutes", "hamstrings"),
    "hip_stability": ("glutes", "hip_abductors", "hip_adductors"),
    "hip_swing": ("glutes", "hamstrings", "lower_back"),
    "hyperextension": ("lower_back", "glutes", "hamstrings"),
    "lateral_raise": ("shoulders",),
    "leg_curl": ("hamstrings",),
    "leg_raise": ("abs", "hip_flexors"),
    "lunge": ("quadriceps", "glutes", "hamstrings"),
    "olympic_lift": ("quadriceps", "glutes", "hamstrings", "traps", "shoulders"),
    "plank": ("core",),
    "plyo": ("quadriceps", "glutes", "calves"),
    "pull_up": ("lats", "biceps"),
    "push_up": ("chest", "triceps", "shoulders"),
    "row": ("lats", "upper_back", "biceps"),
    "shoulder_press": ("shoulders", "triceps"),
    "shoulder_stability": ("shoulders", "rotator_cuff"),
    "shrug": ("traps",),
    "sit_up": ("abs", "hip_flexors"),
    "squat": ("quadriceps", "glutes", "hamstrings"),
    "total_body": ("full_body",),
    "triceps_extension": ("triceps",),
    "warm_up": ("mobility",),
    "run": ("cardio",),
    "bike": ("cardio",),
    "cardio_sensors": ("cardio",),
    "move": ("mobility",),
    "pose": ("mobility",),
    "banded_exercises": ("full_body",),
    "battle_rope": ("shoulders", "arms", "core"),
    "elliptical": ("cardio",),
    "floor_climb": ("cardio",),
    "indoor_bike": ("cardio",),
    "indoor_row": ("cardio", "upper_back"),
    "ladder": ("cardio",),
    "sandbag": ("quadriceps", "glutes", "hamstrings", "core"),
    "sled": ("quadriceps", "glutes", "calves"),
    "sledge_hammer": ("shoulders", "core", "obliques"),
    "stair_stepper": ("cardio",),
    "suspension": ("full_body",),
    "tire": ("full_body",),
    "run_indoor": ("cardio",),
    "bike_outdoor": ("cardio",),
    UNKNOWN: (),
}

# Exercise-name keywords that add leg muscles to a category that is otherwise not leg work
# (e.g. a `cardio` squat jack or a `total_body` burpee). Used only for display groups:
# `lower_body_weight` deliberately follows the category list, as DESIGN.md section 4 says.
_LEG_KEYWORDS = ("squat", "lunge", "jump", "step_up", "burpee", "calf", "leg_press")


def category_name(value: int | None) -> str:
    """The name of an `exercise_category` number; None/65534 -> "unknown".

    A number that is in no profile we know becomes `"category_<n>"` (kept, never counted).
    """
    if value is None:
        return UNKNOWN
    return EXERCISE_CATEGORIES.get(value, f"category_{value}")


def lower_body_weight(category: str) -> float:
    """How much one active set of `category` counts towards lower-body sets: 1, 0.5 or 0."""
    if category in LOWER_BODY_CATEGORIES:
        return 1.0
    if category in HALF_LOWER_BODY_CATEGORIES:
        return 0.5
    return 0.0


def hard_lower_body_sets(sets: Iterable[tuple[str, bool]]) -> float:
    """The lower-body hard-set count of (category, is_hard) pairs: the one counting rule.

    Used by the decoder's summary, the readiness model and the history, so all three agree.
    """
    return sum(lower_body_weight(category) for category, hard in sets if hard)


def muscle_groups(category: str, exercise: str | None = None) -> tuple[str, ...]:
    """Primary muscle groups of a set: the category's, refined by the exercise name if known."""
    groups = CATEGORY_MUSCLES.get(category, ())
    if exercise and category not in LOWER_BODY_CATEGORIES:
        name = exercise.lower()
        if any(k in name for k in _LEG_KEYWORDS):
            groups = groups + tuple(m for m in LEGS if m not in groups)
    return groups
