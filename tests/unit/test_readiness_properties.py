"""Property tests: random contexts never break the model, and it is monotone.

Monotone: more soreness, less sleep, a higher resting HR today, more leg sets, or fewer hours
since them never make the flag less strict (RUN < EASY < REST).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.readiness import DayContext, Flag, Verdict, evaluate
from sync.readiness.sources import expand_tags
from sync.readiness.texts import CODE_ORDER, HIDDEN_BY

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CATEGORIES = [
    "squat",
    "deadlift",
    "lunge",
    "total_body",
    "bench_press",
    "row",
    "unknown",
    "plyo",
    "hip_raise",
    "core",
    "65534",
]

offsets = st.integers(min_value=-12 * 4, max_value=14 * 4).map(lambda q: timezone(timedelta(minutes=15 * q)))
nows = st.builds(
    lambda base, minutes, tz: (base + timedelta(minutes=minutes)).astimezone(tz),
    st.just(datetime(2026, 3, 10, 5, 30, tzinfo=UTC)),
    st.integers(min_value=-400 * 24 * 60, max_value=400 * 24 * 60),
    offsets,
)
a_set = st.fixed_dictionaries(
    {"category": st.sampled_from(CATEGORIES)},
    optional={
        "reps": st.integers(0, 30),
        "weight_kg": st.floats(0, 300),
        "set_type": st.sampled_from(["active", "rest", "ACTIVE"]),
        "warm_up": st.booleans(),
        "exercise": st.text(max_size=10),
    },
)


def sessions(min_hours: float = -48.0) -> st.SearchStrategy[list[tuple[float, list]]]:
    """(hours before now, sets) pairs."""
    return st.lists(st.tuples(st.floats(min_hours, 24 * 30), st.lists(a_set, max_size=15)), max_size=5)


def day_series(lo: float, hi: float, max_size: int = 70) -> st.SearchStrategy[dict[int, float]]:
    """Values keyed by days before D (negative: after D)."""
    return st.dictionaries(st.integers(-3, 90), st.floats(lo, hi), max_size=max_size)


@st.composite
def contexts(draw: st.DrawFn, past_sessions_only: bool = False) -> dict[str, Any]:
    """A random, valid context as a JSON-like dict (with `now` as a datetime)."""
    now = draw(nows)
    day = now.date()

    def keyed(values: dict[int, float]) -> dict[str, float]:
        return {(day - timedelta(days=k)).isoformat(): v for k, v in values.items()}

    data: dict[str, Any] = {"now": now}
    maybe = {
        "athlete": st.fixed_dictionaries(
            {
                "sex": st.sampled_from(["male", "female"]),
                "max_hr": st.integers(170, 210),
                "rest_hr": st.integers(35, 80),
            }
        ),
        "strength": sessions(0.0 if past_sessions_only else -48.0),
        "soreness": st.integers(0, 10) | st.floats(0, 10),
        "hrv_ms": day_series(5, 250),
        "hrv_status": st.sampled_from(["BALANCED", "UNBALANCED", "LOW", "POOR", "NONE"]),
        "resting_hr": day_series(35, 110, 40),
        "sleep_hours": st.floats(0, 24),
        "daily_load": day_series(0, 400),
        "acwr": st.floats(0, 4),
        "garmin_recovery_hours": st.floats(0, 96),
    }
    for key, strategy in maybe.items():
        if draw(st.booleans()):
            data[key] = draw(strategy)
    if "strength" in data:
        data["strength"] = [{"end": now - timedelta(hours=h), "sets": s} for h, s in data["strength"]]
    for key in ("hrv_ms", "resting_hr", "daily_load"):
        if key in data:
            data[key] = keyed(data[key])
    return data


def run(data: dict[str, Any]) -> Verdict:
    return evaluate(DayContext.model_validate(data))


def rank(data: dict[str, Any]) -> int:
    return run(data).flag.rank


@SETTINGS
@given(contexts())
def test_random_contexts_never_raise_and_are_consistent(data: dict[str, Any]) -> None:
    v = run(data)
    assert v.flag in set(Flag)
    assert [r.code for r in v.reasons] == [c for c in v.codes if HIDDEN_BY.get(c) not in v.codes]
    assert v.codes == [c for c in CODE_ORDER if c in v.codes]
    assert all(r.text and r.source for r in v.reasons)
    assert {t for r in v.reasons for t in expand_tags(r.source)} == {s.tag for s in v.sources}
    assert len(set(v.unknown)) == len(v.unknown)
    assert v.prescription.run is (v.flag is not Flag.REST)
    if v.flag is Flag.EASY:
        assert v.prescription.max_minutes in (30, 40)
    assert v.day == data["now"].date()
    out = v.to_json_dict()
    assert json.loads(json.dumps(out)) == out
    assert run(data) == v  # deterministic


@SETTINGS
@given(contexts(), st.floats(0, 10), st.floats(0, 10))
def test_more_soreness_is_never_less_strict(data: dict, a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert rank({**data, "soreness": hi}) >= rank({**data, "soreness": lo})


@SETTINGS
@given(contexts(), st.floats(0, 24), st.floats(0, 24))
def test_less_sleep_is_never_less_strict(data: dict, a: float, b: float) -> None:
    less, more = sorted((a, b))
    assert rank({**data, "sleep_hours": less}) >= rank({**data, "sleep_hours": more})


@SETTINGS
@given(contexts(), st.floats(35, 110), st.floats(0, 40))
def test_higher_resting_hr_today_is_never_less_strict(data: dict, base: float, up: float) -> None:
    today = data["now"].date().isoformat()
    series = dict(data.get("resting_hr") or {})
    low = {**data, "resting_hr": {**series, today: base}}
    high = {**data, "resting_hr": {**series, today: base + up}}
    assert rank(high) >= rank(low)


@SETTINGS
@given(
    contexts(past_sessions_only=True),
    st.integers(1, 12),
    st.sampled_from(["squat", "lunge", "total_body", "bench_press"]),
)
def test_more_leg_sets_are_never_less_strict(data: dict, extra: int, category: str) -> None:
    strength = data.get("strength") or []
    if not strength:
        strength = [{"end": data["now"] - timedelta(hours=10), "sets": []}]
    latest = max(range(len(strength)), key=lambda i: strength[i]["end"])
    more = [dict(s) for s in strength]
    more[latest] = {**more[latest], "sets": more[latest]["sets"] + [{"category": category}] * extra}
    assert rank({**data, "strength": more}) >= rank({**data, "strength": strength})


@SETTINGS
@given(contexts(past_sessions_only=True), st.floats(0, 1))
def test_fewer_hours_since_leg_work_is_never_less_strict(data: dict, share: float) -> None:
    strength = data.get("strength") or []
    if not strength:
        return
    # move every session later by the same amount (spacing, hence novelty, is unchanged)
    room = min(data["now"] - s["end"] for s in strength)
    shift = room * share
    later = [{**s, "end": s["end"] + shift} for s in strength]
    assert rank({**data, "strength": later}) >= rank({**data, "strength": strength})
