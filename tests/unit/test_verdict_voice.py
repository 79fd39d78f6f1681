"""One voice per verdict: what is shown never contradicts the flag, advice fits the reasons,
sources are explained, and no input can crash the model (issue: verdicts a runner trusts)."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from sync.notify.render import render_daily_email
from sync.readiness import Flag, Thresholds, ThresholdsError, Verdict, context_from_json, evaluate
from sync.readiness.thresholds import layered_thresholds
from testkit.helpers import run_cli
from tests.conftest import require_shared
from tests.unit.test_readiness_properties import contexts

NOW = datetime(2026, 3, 10, 6, 30, tzinfo=UTC)
ATHLETE = {"sex": "male", "max_hr": 190, "rest_hr": 50}
LEG_ADVICE = ("compression", "foam roll", "legs hurt", "after leg work")
RUN_ADVICE = ("easy run", "recovery run", "jogging", "run step", "conversational")


def leg_session(hours: float, n: int = 8) -> dict[str, Any]:
    end = NOW - timedelta(hours=hours)
    return {"end": end.isoformat(), "sets": [{"category": "squat", "reps": 8, "weight_kg": 80}] * n}


def rhr(today: float, mean: float = 50.0) -> dict[str, float]:
    values = {(NOW.date() - timedelta(days=i)).isoformat(): mean for i in range(1, 31)}
    values[NOW.date().isoformat()] = today
    return values


def verdict(**context: Any) -> Verdict:
    return evaluate(context_from_json({"now": NOW.isoformat(), "athlete": ATHLETE, **context}))


def shown_text(v: Verdict) -> str:
    """Everything a person reads: reasons, prescription, notes."""
    p = v.prescription
    parts = [r.text for r in v.reasons] + [p.summary, *p.advice, p.why or "", p.note or "", *v.notes]
    return " ".join(parts).lower()


def cli_text(v_context: dict[str, Any], tmp_path: Path) -> str:
    path = tmp_path / "ctx.json"
    path.write_text(json.dumps({"now": NOW.isoformat(), "athlete": ATHLETE, **v_context}), encoding="utf-8")
    result = run_cli("verdict", "--context", path)
    assert result.exit_code == 0, result.output
    # Panel borders split wrapped lines: drop them before reading the words.
    return " ".join(result.output.replace("│", " ").split()).lower()


def email_text(v: Verdict) -> str:
    """The daily email's subject, text part and HTML part (tags dropped), as one string."""
    message = render_daily_email(v, to="ana@example.org", sender="legday@example.org")
    parts = [str(message["Subject"])]
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            parts.append(re.sub(r"<[^>]+>", " ", part.get_content()))
    return " ".join(" ".join(parts).split()).lower()


# --- one voice -----------------------------------------------------------------------------

REST_CASES = {
    "leg day + short sleep + load spike": {"strength": [leg_session(20)], "sleep_hours": 5, "acwr": 1.8},
    "barely walk after a leg day": {"strength": [leg_session(20)], "soreness": 8},
    "very high RHR + low HRV status": {"resting_hr": rhr(62), "hrv_status": "LOW"},
}


@pytest.mark.parametrize("context", REST_CASES.values(), ids=REST_CASES.keys())
def test_rest_never_advises_a_run(context: dict[str, Any], tmp_path: Path) -> None:
    v = verdict(**context)
    assert v.flag is Flag.REST
    for text in (shown_text(v), cli_text(context, tmp_path), email_text(v)):
        assert not any(phrase in text for phrase in RUN_ADVICE), text
        assert "short easy run only" not in text and "keep it easy" not in text


def test_leg_day_under_rest_explains_without_prescribing() -> None:
    v = verdict(**REST_CASES["leg day + short sleep + load spike"])
    leg = next(r for r in v.reasons if r.code == "LEG_DAY")
    assert "impaired" in leg.text and "run" not in leg.text.split("running economy")[0]


def test_barely_walking_is_rest_without_a_walking_target(tmp_path: Path) -> None:
    context = REST_CASES["barely walk after a leg day"]
    v = verdict(**context)
    for text in (shown_text(v), cli_text(context, tmp_path), email_text(v)):
        assert "walk for" not in text and "20-40 minutes" not in text
        assert "only as far as it is comfortable" in text


def test_very_high_rhr_hides_its_milder_sibling_but_keeps_both_codes(tmp_path: Path) -> None:
    context = {"resting_hr": rhr(61)}
    v = verdict(**context)
    assert {"RHR_HIGH", "RHR_VERY_HIGH"} <= set(v.codes)
    assert [r.code for r in v.reasons] == ["RHR_VERY_HIGH"]
    assert cli_text(context, tmp_path).count("resting hr 61 bpm") == 1


# --- advice that fits the reason -----------------------------------------------------------

NON_LEG_EASY = {
    "short sleep": {"sleep_hours": 5},
    "load spike": {"acwr": 1.8},
    "raised resting HR": {"resting_hr": rhr(56)},
    "Garmin recovery": {"garmin_recovery_hours": 20},
}


@pytest.mark.parametrize("context", NON_LEG_EASY.values(), ids=NON_LEG_EASY.keys())
def test_no_leg_advice_when_no_leg_code_fired(context: dict[str, Any], tmp_path: Path) -> None:
    v = verdict(**context)
    assert v.flag is Flag.EASY and not {"LEG_DAY", "SORE", "SORE_SEVERE"} & set(v.codes)
    for text in (shown_text(v), cli_text(context, tmp_path), email_text(v)):
        assert not any(phrase in text for phrase in LEG_ADVICE), text


@pytest.mark.parametrize(
    ("context", "phrase"),
    [
        ({"sleep_hours": 5}, "bed early"),
        ({"acwr": 1.8}, "build back gradually"),
        ({"resting_hr": rhr(56)}, "never run through an illness"),
        ({"hrv_status": "LOW"}, "never run through an illness"),
    ],
)
def test_each_reason_brings_its_own_advice(context: dict[str, Any], phrase: str) -> None:
    assert phrase in shown_text(verdict(**context))


def test_the_leg_day_advice_stays_complete() -> None:
    text = shown_text(verdict(strength=[leg_session(20)]))
    for phrase in (
        "short easy recovery run only",
        "warm up longer than usual",
        "no long run, tempo, hills or intervals",
        "compression",
        "eat",
        "hydrate",
        "listen to your body",
    ):
        assert phrase in text, phrase


# --- no recent data and sources ------------------------------------------------------------


def test_no_recent_data_is_said_in_the_reasons_the_advice_and_the_cli(tmp_path: Path) -> None:
    v = evaluate(context_from_json({"now": NOW.isoformat()}))
    assert "NO_RECENT_DATA" in v.codes and v.flag is Flag.RUN
    assert any("rests on no recent data" in a for a in v.prescription.advice)
    path = tmp_path / "empty.json"
    path.write_text(json.dumps({"now": NOW.isoformat()}), encoding="utf-8")
    out = " ".join(run_cli("verdict", "--context", path).output.split())
    assert "rests on no recent data" in out and "Sync your watch" in out
    mail = email_text(v)
    assert "no recent data" in mail.split(" run today")[0] or "(no recent data)" in mail  # the subject
    assert "rests on no recent data" in mail and "sync your watch" in mail


def test_cli_shows_sentences_not_codes_and_explains_every_tag(tmp_path: Path) -> None:
    context = {"strength": [leg_session(20)], "sleep_hours": 5}
    text = " ".join(cli_text(context, tmp_path).split())
    assert "leg_day" not in text and "sleep_short" not in text
    v = verdict(**context)
    for source in v.sources:
        assert f"[{source.tag.lower()}] {source.title.lower()}" in text
    assert {"S1", "S4", "S8", "S29"} <= {s.tag for s in v.sources}


def test_every_published_scenario_through_the_cli_json() -> None:
    folder = require_shared("scenarios")
    files = sorted(folder.glob("*.json"))
    assert len(files) >= 18
    for path in files:
        expect = json.loads(path.read_text(encoding="utf-8"))["expect"]
        result = run_cli("verdict", "--context", path, "--json")
        assert result.exit_code == 0, (path.name, result.output)
        doc = json.loads(result.output)
        assert doc["flag"] == expect["flag"], path.name
        assert set(expect.get("codes_include", [])) <= set(doc["codes"]), path.name
        assert not set(expect.get("codes_exclude", [])) & set(doc["codes"]), path.name


# --- input that cannot crash the model ------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ({"lb_sets": "inf"}, "finite"),
        ({"lb_sets": "nan"}, "finite"),
        ({"acwr_chronic_days": 1_000_000_000}, "allowed: from 2 to 365"),
        ({"hrv_baseline_days": "3000000"}, "allowed: from 2 to 365"),
        ({"lb_sets": True}, "not true/false"),
        ({"hrv_baseline_min_nights": 100, "hrv_baseline_days": 60}, "hrv_baseline_min_nights"),
    ],
)
def test_thresholds_refused_with_one_line_naming_the_range(override: dict[str, Any], needle: str) -> None:
    with pytest.raises(ThresholdsError) as info:
        Thresholds().with_overrides(override)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_athlete_set_refuses_infinite_thresholds(tmp_path: Path, settings: Any) -> None:
    assert run_cli("athlete", "add", "ana", "--timezone", "UTC").exit_code == 0
    result = run_cli("athlete", "set", "ana", "-t", "lb_sets=inf")
    assert result.exit_code == 2 and "finite" in result.output
    result = run_cli("athlete", "set", "ana", "-t", "acwr_chronic_days=1000000000")
    assert result.exit_code == 2 and "365" in result.output


@pytest.mark.parametrize(
    ("context", "needle"),
    [
        ({"now": 5}, "ISO 8601"),
        ({"now": NOW.isoformat(), "soreness": True}, "true/false"),
        ({"now": NOW.isoformat(), "sleep_hours": math.inf}, "finite"),
        ({"now": NOW.isoformat(), "hrv_ms": {"2026-03-09": math.nan}}, "finite"),
        ({"now": NOW.isoformat(), "strength": [{"end": 1773100000, "sets": []}]}, "ISO 8601"),
    ],
)
def test_context_refuses_wrong_types_and_non_finite_numbers(context: dict[str, Any], needle: str) -> None:
    from sync.readiness import ContextError

    with pytest.raises(ContextError) as info:
        context_from_json(context)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_non_finite_context_from_a_file_is_one_line_not_infinity_json(tmp_path: Path) -> None:
    path = tmp_path / "nan.json"
    path.write_text('{"now": "2026-03-10T06:30:00+00:00", "acwr": Infinity}', encoding="utf-8")
    result = run_cli("verdict", "--context", path, "--json")
    assert result.exit_code == 2 and "Infinity" not in result.stdout


def _bounded(name: str) -> st.SearchStrategy[float]:
    field = Thresholds.model_fields[name]
    lo, hi = 0.0, 1e6
    for m in field.metadata:
        lo = float(getattr(m, "ge", None) if getattr(m, "ge", None) is not None else getattr(m, "gt", lo))
        hi = float(getattr(m, "le", hi) if getattr(m, "le", None) is not None else hi)
    if field.annotation is int:
        return st.integers(int(math.ceil(lo)), int(hi)).map(float)
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


overrides = st.dictionaries(
    st.sampled_from(sorted(Thresholds.model_fields)),
    st.deferred(lambda: st.just(None)),
    max_size=6,
).flatmap(lambda d: st.fixed_dictionaries({k: _bounded(k) for k in d}))


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides, contexts())
def test_any_accepted_thresholds_give_a_verdict_for_any_context(
    override: dict[str, float], data: dict[str, Any]
) -> None:
    try:
        thresholds = layered_thresholds(
            {k: int(v) if float(v).is_integer() else v for k, v in override.items()}
        )
    except ThresholdsError:
        return  # refused at `athlete set`: never stored, never used
    v = evaluate(context_from_json(data | {"now": data["now"].isoformat()}), thresholds)
    json.dumps(v.to_json_dict(), allow_nan=False)
    assert v.flag in set(Flag)
