"""Record building from plain message dicts: no FIT bytes, no fitparse."""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.fit.build import FIT_EPOCH_S, FitMessages, build_decoded
from sync.fit.hr_seconds import MAX_BPM, MAX_GAP_S, CumulativeHr
from sync.fit.names import EnumNames
from sync.fit.trimp import banister_trimp, trimp_from_seconds
from sync.fit.types import TrimpAthlete

T0 = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
T0_FIT = int(T0.timestamp()) - FIT_EPOCH_S

# A hand-written base profile: just the tables these tests need.
TABLES = {
    "sport": {10: "training"},
    "sub_sport": {20: "strength_training"},
    "squat_exercise_name": {0: "squat"},
}


def _messages() -> FitMessages:
    state = FitMessages()
    state.add_file_id({0: 4, 1: 1, 2: 4315, 3: 123456, 4: T0_FIT})
    return state


def test_record_building_does_not_need_fitparse() -> None:
    code = (
        "import sys, sync.fit.build, sync.fit.names, sync.fit.hr_seconds;"
        "sys.exit(any(m.split('.')[0] == 'fitparse' for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_strength_session_and_sets_from_dicts() -> None:
    state = _messages()
    state.sessions.append(
        {2: T0_FIT, 5: 10, 6: 20, 7: 1_800_000, 8: 1_700_000, 16: 120, 17: 160, 24: 25, 254: 0}
    )
    state.add_time_in_zone({0: 18, 1: 0, 2: (60_000, None, 1_500)})
    state.sets.append({0: 45_000, 3: 8, 4: 1600, 5: 1, 6: T0_FIT + 60, 7: (28, 17), 8: (0,)})
    state.sets.append({0: 90_000, 4: 0xFFFE, 5: 0, 6: T0_FIT + 120, 7: (65534,)})
    state.finish()

    decoded = build_decoded(state, True, [], EnumNames(TABLES.get))

    assert (decoded.file_type, decoded.manufacturer, decoded.product) == (
        "file_type_4",
        "manufacturer_1",
        "fr965",
    )
    assert decoded.serial_number == 123456 and decoded.time_created == T0
    (session,) = decoded.sessions
    assert (session.sport, session.sub_sport, session.start) == ("training", "strength_training", T0)
    assert (session.duration_s, session.elapsed_s, session.aerobic_te) == (1700.0, 1800.0, 2.5)
    assert session.time_in_zone_s == (60.0, 0.0, 1.5)
    # no HR series: the session's average HR over its timer time, one bin
    assert session.hr_seconds == ((120, 1700.0),)
    assert trimp_from_seconds(session.hr_seconds, TrimpAthlete()) == round(
        banister_trimp(1700 / 60, 120, TrimpAthlete()), 2
    )
    active, rest = decoded.sets
    assert (active.category, active.category_guesses, active.exercise) == (
        "squat",
        ("squat", "lunge"),
        "squat",
    )
    assert (active.reps, active.weight_kg, active.duration_s, active.set_type) == (8, 100.0, 45.0, "active")
    assert active.lower_body == 1.0 and active.start == datetime.fromtimestamp(T0.timestamp() + 60, tz=UTC)
    assert (rest.category, rest.weight_kg, rest.set_type, rest.lower_body) == ("unknown", None, "rest", 0.0)
    assert decoded.warnings == ()


def test_names_without_base_tables_fall_back_to_newer_values_then_numbers() -> None:
    names = EnumNames()
    assert names.sport(75) == "volleyball"
    assert names.sport(10) == "sport_10"
    assert names.sport(None) == "generic"
    assert names.sub_sport(None) is None
    assert names.product(1, 4999, "garmin") == "garmin:4999"
    assert names.exercise(28, 0) is None


def test_trimp_from_record_heart_rate_and_set_placed_in_its_session() -> None:
    athlete = TrimpAthlete(sex="female", max_hr=185, rest_hr=55)
    state = _messages()
    for s in range(601):  # ten minutes at 150 bpm
        state.record_series.add(T0_FIT + s, 150)
    state.sessions.append({2: T0_FIT, 7: 600_000, 8: 600_000})
    state.sessions.append({2: T0_FIT + 900, 7: 600_000, 8: 600_000})
    state.sets.append({5: 1, 6: T0_FIT + 1000, 7: (28,)})
    state.finish()

    decoded = build_decoded(state, True, [])

    first, second = decoded.sessions
    assert first.hr_seconds == ((150, 600.0),)
    assert trimp_from_seconds(first.hr_seconds, athlete) == pytest.approx(
        banister_trimp(10.0, 150, athlete), abs=0.01
    )
    assert second.hr_seconds is None and trimp_from_seconds(second.hr_seconds, athlete) is None
    assert decoded.sets[0].session_index == 1


def test_sets_without_a_session_are_warned_about() -> None:
    state = _messages()
    state.sets.append({5: 1, 7: (28,)})
    state.finish()
    decoded = build_decoded(state, False, ["CRC mismatch"])
    assert decoded.crc_ok is False
    assert decoded.warnings == ("CRC mismatch", "1 set messages but no session message")


@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.one_of(st.integers(-5, 300), st.floats(allow_nan=True))),
        max_size=200,
    )
)
def test_seconds_per_bpm_over_the_whole_stream_are_the_naive_ones(steps: list[tuple[int, object]]) -> None:
    """Over a span that holds the whole stream, the histogram is what a naive walk gives:
    each valid sample's HR (whole bpm, at most 250) holds until the next later sample, 10 s
    at most, whatever the checkpoints and their interpolation do in between."""
    series = CumulativeHr()
    naive: dict[int, float] = {}
    t, last = 1_000_000, None
    for dt, hr in steps:
        t += dt
        series.add(t, hr)
        if not isinstance(hr, (int, float)) or not math.isfinite(hr) or round(hr) <= 0:
            continue
        if last is not None and t > last[0]:
            naive[last[1]] = naive.get(last[1], 0.0) + min(t - last[0], MAX_GAP_S)
        last = (t, min(round(hr), MAX_BPM))
    series.finish()
    bins, _, covered = series.between(0, 10_000_000)
    assert dict(bins) == pytest.approx({bpm: s for bpm, s in naive.items() if s > 0})
    assert [bpm for bpm, _ in bins] == sorted(bpm for bpm, _ in bins)
    assert sum(s for _, s in bins) == pytest.approx(covered)
    # two sessions cut anywhere (between checkpoints too) share the seconds out, none lost
    middle = (1_000_000 + t) / 2 + 0.3
    halves: dict[int, float] = {}
    for part in (series.between(0, middle)[0], series.between(middle, 10_000_000)[0]):
        for bpm, seconds in part:
            halves[bpm] = halves.get(bpm, 0.0) + seconds
    assert halves == pytest.approx(dict(bins))
