"""Every file of the shared FIT corpus against its MANIFEST.tsv row.

The corpus lives outside the repository (settings.corpus_dir, default ../shared/corpus/fit
from the repo root). Missing corpus: skipped with a plain message locally, a failure on CI
(CI=true), so the suite can never pass silently without it.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from sync.config import get_settings
from sync.errors import FitDecodeError
from sync.fit import DecodedFile, TrimpAthlete, decode_fit
from sync.fit.trimp import trimp_from_seconds

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.corpus


def _corpus_dir() -> Path:
    path = Path(get_settings().corpus_dir)
    return path if path.is_absolute() else (REPO / path).resolve()


CORPUS = _corpus_dir()
MANIFEST = CORPUS / "MANIFEST.tsv"
ROWS = list(csv.DictReader(MANIFEST.open(encoding="utf-8"), delimiter="\t")) if MANIFEST.exists() else []
# Files whose only fault is a bad CRC: decoded anyway, flagged crc_ok=False.
CRC_ONLY = {
    "broken/sdk-activity-bad-file-crc-01.fit",
    "broken/sdk-activity-chained-bad-crc-01.fit",
    "broken/fr235-activity-bad-crc-01.fit",
}


def _require_corpus() -> None:
    if ROWS:
        return
    message = f"corpus not found at {CORPUS}: corpus tests did not run"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _rows(ok: bool) -> list[dict[str, str]]:
    return [r for r in ROWS if (r["fitparse_ok"] == "True") == ok] or [{"file": "<no corpus>"}]


def _expected_names(manifest_value: str, fitparse_to_name: dict[str, str]) -> list[str | None]:
    """Manifest joins per-session values with '+'; 'None' is absent; numbers are values
    fitparse 1.2.0 could not name (75 is volleyball)."""
    if not manifest_value:
        return []
    out: list[str | None] = []
    for part in manifest_value.split("+"):
        out.append(None if part == "None" else fitparse_to_name.get(part, part))
    return out


NEWER_SPORT_NAMES = {"75": "volleyball"}


def test_corpus_present() -> None:
    _require_corpus()
    assert len(ROWS) >= 60


@pytest.mark.parametrize("row", _rows(True), ids=lambda r: r["file"])
def test_usable_file(row: dict[str, str]) -> None:
    _require_corpus()
    decoded = decode_fit((CORPUS / row["file"]).read_bytes())
    assert decoded.crc_ok
    assert len(decoded.sessions) == int(row["n_session"])
    assert len(decoded.sets) == int(row["n_set"])
    sports = _expected_names(row["sport"], NEWER_SPORT_NAMES)
    # an absent sport is FIT's default, generic
    assert [s.sport for s in decoded.sessions] == [s or "generic" for s in sports]
    assert [s.sub_sport for s in decoded.sessions] == _expected_names(row["sub_sport"], {})
    file_type = {"49": "sleep", "68": "hrv_status"}.get(row["file_type"], row["file_type"])
    assert decoded.file_type == file_type
    manufacturer, _, product = row["product"].partition(":")
    assert decoded.manufacturer == manufacturer
    assert decoded.product in (product, f"{manufacturer}:{product}")
    for s in decoded.sessions:
        assert s.start.tzinfo is not None
        bins = s.hr_seconds or ()
        assert len(bins) < 250 and all(0 < bpm <= 250 and seconds > 0 for bpm, seconds in bins)
        assert [bpm for bpm, _ in bins] == sorted({bpm for bpm, _ in bins})
    for st in decoded.sets:
        assert 0 <= st.session_index < max(1, len(decoded.sessions))


@pytest.mark.parametrize("row", _rows(False), ids=lambda r: r["file"])
def test_broken_file(row: dict[str, str]) -> None:
    _require_corpus()
    data = (CORPUS / row["file"]).read_bytes()
    if row["file"] in CRC_ONLY:
        decoded = decode_fit(data)
        assert decoded.crc_ok is False
        assert any("CRC mismatch" in w for w in decoded.warnings)
        assert len(decoded.sessions) == max(int(row["n_session"]), 1)
        return
    with pytest.raises(FitDecodeError) as info:
        decode_fit(data)
    reason = info.value.reason
    assert reason.strip() and "\n" not in reason


# --- hand-checked values (computed once with plain fitparse and pinned) --------------


def _decode(name: str):  # noqa: ANN202
    _require_corpus()
    return decode_fit((CORPUS / name).read_bytes())


def test_strength_leg_day_sets() -> None:
    decoded = _decode("strength/fr965-strength-multisport-cycling-legs-01.fit")
    assert [s.sport for s in decoded.sessions] == ["cycling", "training"]
    first = [(s.set_type, s.category, s.reps, s.weight_kg) for s in decoded.sets[:6]]
    assert first == [
        ("rest", "unknown", None, None),
        ("active", "unknown", 10, 0.0),
        ("rest", "unknown", None, None),
        ("active", "triceps_extension", 15, 0.0),
        ("rest", "unknown", None, None),
        ("active", "triceps_extension", 8, 0.0),
    ]
    assert decoded.sets[3].category_guesses == ("triceps_extension", "lunge", "unknown")
    heavy = decoded.sets[35]
    assert (heavy.category, heavy.exercise, heavy.reps, heavy.weight_kg) == (
        "deadlift",
        "barbell_deadlift",
        6,
        76.0,
    )
    assert decoded.sets[37].category == "squat" and decoded.sets[37].weight_kg == 20.0
    assert max(s.weight_kg or 0 for s in decoded.sets) == 136.0
    assert sum(s.set_type == "active" for s in decoded.sets) == 41
    assert all(s.session_index == 1 for s in decoded.sets)  # all in the strength session
    assert decoded.lb_sets == 16.0
    strength = decoded.sessions[1]
    assert strength.aerobic_te == pytest.approx(2.1)
    assert strength.anaerobic_te == pytest.approx(0.6)
    assert strength.workout_feel == 50 and strength.workout_rpe == 40
    assert strength.training_load_peak == pytest.approx(34.239, abs=1e-3)
    assert strength.time_in_zone_s is not None
    assert strength.time_in_zone_s[:3] == pytest.approx((2515.839, 965.423, 350.339))


def test_run_distance_duration_and_trimp() -> None:
    (session,) = _decode("run/fr110-run-01.fit").sessions
    trimp = trimp_from_seconds(session.hr_seconds, TrimpAthlete())
    assert session.distance_m == pytest.approx(4835.38)
    assert session.duration_s == pytest.approx(2625.14)
    assert session.avg_hr == 147
    # TRIMP sanity: 44 min at avg 147 (male, 190/60) is about 73 by the average-HR formula;
    # the per-second series must land close to it.
    assert trimp == pytest.approx(72.67, abs=0.5)
    assert trimp is not None and 50 < trimp < 100


def test_newer_names() -> None:
    decoded = _decode("other/fr965-volleyball-01.fit")
    assert decoded.product == "fr965"
    assert decoded.sessions[0].sport == "volleyball"
    assert _decode("other/fr165-sleep-01.fit").file_type == "sleep"
    assert _decode("other/fr165-hrv-status-01.fit").file_type == "hrv_status"


def test_time_jump_falls_back_to_average_hr() -> None:
    decoded = _decode("run/fr225-run-time-jump-01.fit")
    trimp = trimp_from_seconds(decoded.sessions[0].hr_seconds, TrimpAthlete())
    assert trimp is not None and trimp > 50
    assert any("HR series covers" in w for w in decoded.warnings)


# --- the fast path against fitparse in full --------------------------------------------


def _outcome(
    decoder: Callable[..., DecodedFile], data: bytes, check_crc: bool
) -> tuple[str, DecodedFile | None]:
    """What a decoder makes of `data`: its result's repr (and the result), or its reason."""
    try:
        decoded = decoder(data, check_crc=check_crc)
    except FitDecodeError as exc:
        return f"FitDecodeError: {exc.reason}", None
    return repr(decoded), decoded


@pytest.mark.parametrize("row", ROWS or [{"file": "<no corpus>"}], ids=lambda r: r["file"])
def test_fast_path_matches_full_fitparse(row: dict[str, str]) -> None:
    """Bulk messages read from their layout, our CRC: the same result as fitparse parsing
    every message and checking the CRC itself, bit for bit (repr), or the same reason."""
    _require_corpus()
    from sync.fit.decode import decode_fit_reference

    data = (CORPUS / row["file"]).read_bytes()
    checked, decoded = _outcome(decode_fit_reference, data, True)
    assert _outcome(decode_fit, data, True)[0] == checked, "check_crc=True"
    # Where fitparse found the CRC right, it reads the very same messages without the check
    # (check_crc only raises at a mismatch), so its unchecked result is this one: the slow full
    # parse runs once for those files (half of this test's time), twice for the others.
    if decoded is None or not decoded.crc_ok:
        unchecked = _outcome(decode_fit_reference, data, False)[0]
    else:
        unchecked = checked
    assert _outcome(decode_fit, data, False)[0] == unchecked, "check_crc=False"


# --- TRIMP from the histogram: the values of the decoder that computed it inside ----------

# Pinned with the decoder before issue 19 item 6 (decode_fit(data, hr) computed TRIMP while
# streaming): file -> profile -> TRIMP per session. The histogram path must give exactly these.
TODAYS_TRIMP = json.loads((REPO / "tests" / "fixtures" / "corpus_trimp.json").read_text())
PROFILES = {
    "male-190-60": TrimpAthlete(),
    "female-200-50": TrimpAthlete("female", 200, 50),
    "male-175-45": TrimpAthlete("male", 175, 45),
}


@pytest.mark.parametrize("name", sorted(TODAYS_TRIMP))
def test_trimp_from_the_histogram_is_the_trimp_of_before(name: str) -> None:
    decoded = _decode(name)
    for profile, expected in TODAYS_TRIMP[name].items():
        got = [trimp_from_seconds(s.hr_seconds, PROFILES[profile]) for s in decoded.sessions]
        assert got == expected, profile


def test_the_pinned_trimp_covers_every_usable_file() -> None:
    _require_corpus()
    usable = {r["file"] for r in ROWS if r["fitparse_ok"] == "True"} | CRC_ONLY
    assert set(TODAYS_TRIMP) == usable
