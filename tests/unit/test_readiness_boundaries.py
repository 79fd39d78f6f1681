"""Rule edges, time zones, missing data, thresholds, prescription, and the CLI."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sync.readiness import (
    ContextError,
    DayContext,
    Flag,
    Thresholds,
    ThresholdsError,
    Verdict,
    context_from_json,
    evaluate,
    zone2_top,
)
from sync.readiness.baselines import acwr_from_daily_load

NOW = datetime(2026, 3, 10, 6, 30, tzinfo=timezone(timedelta(hours=1)))
D = NOW.date()


def sets(n: float, category: str = "squat", **extra: Any) -> list[dict[str, Any]]:
    """`n` hard sets of `category` (a half counts as one total_body set)."""
    out = [{"category": category, "reps": 8, "weight_kg": 80, **extra} for _ in range(int(n))]
    if n != int(n):
        out.append({"category": "total_body", "reps": 10, "weight_kg": 20})
    return out


def session(hours_ago: float, set_list: list[dict[str, Any]], now: datetime = NOW) -> dict:
    """A strength session that ended `hours_ago` before `now`."""
    return {"end": (now - timedelta(hours=hours_ago)).isoformat(), "sets": set_list}


def earlier_leg_day(now: datetime = NOW) -> dict:
    """A leg day 7 days back, so a later one is not novel."""
    return session(7 * 24, sets(6), now)


def ctx(**kw: Any) -> DayContext:
    """A context with only what the test gives (plus `now`)."""
    data: dict[str, Any] = {"now": NOW.isoformat()}
    data.update(kw)
    return context_from_json(data)


def rhr(today: float, mean: float = 50.0, n: int = 30) -> dict[str, float]:
    """Resting HR: `n` days of `mean` before D and `today` on D."""
    values = {(D - timedelta(days=i)).isoformat(): mean for i in range(1, n + 1)}
    values[D.isoformat()] = today
    return values


def verdict(**kw: Any) -> Verdict:
    return evaluate(ctx(**kw))


# --- LEG_DAY -----------------------------------------------------------------------------


@pytest.mark.parametrize(("hours", "flag"), [(47.9, Flag.EASY), (48.0, Flag.RUN)])
def test_leg_window_48h(hours: float, flag: Flag) -> None:
    v = verdict(strength=[earlier_leg_day(), session(hours, sets(8))])
    assert v.flag is flag
    assert ("LEG_DAY" in v.codes) is (flag is Flag.EASY)
    assert v.numbers["novel"] is False


@pytest.mark.parametrize(("hours", "flag"), [(71.9, Flag.EASY), (72.0, Flag.RUN)])
def test_novel_window_72h(hours: float, flag: Flag) -> None:
    v = verdict(strength=[session(hours, sets(8))])
    assert v.flag is flag
    assert v.numbers["novel"] is True


def test_novel_lookback_is_14_days() -> None:
    # the earlier leg day 14 days + 1 h before this one: still novel
    older = session(60 + 14 * 24 + 1, sets(6))
    assert verdict(strength=[older, session(60, sets(8))]).flag is Flag.EASY
    within = session(60 + 14 * 24 - 1, sets(6))
    assert verdict(strength=[within, session(60, sets(8))]).flag is Flag.RUN
    # a light session before does not make it familiar
    light = session(60 + 5 * 24, sets(5))
    assert verdict(strength=[light, session(60, sets(8))]).flag is Flag.EASY


@pytest.mark.parametrize(("n", "fires"), [(5, False), (6, True), (5.5, False)])
def test_lb_set_count(n: float, fires: bool) -> None:
    v = verdict(strength=[session(20, sets(n))])
    assert ("LEG_DAY" in v.codes) is fires
    assert v.numbers["lb_sets"] == n


def test_total_body_counts_half() -> None:
    assert verdict(strength=[session(20, sets(11, "total_body"))]).numbers["lb_sets"] == 5.5
    v = verdict(strength=[session(20, sets(5) + sets(2, "total_body"))])
    assert v.numbers["lb_sets"] == 6.0 and "LEG_DAY" in v.codes


def test_rest_warm_up_and_upper_body_sets_never_count() -> None:
    s = sets(5) + sets(3, set_type="rest") + sets(3, warm_up=True) + sets(10, "bench_press")
    v = verdict(strength=[session(10, s)])
    assert v.numbers["lb_sets"] == 5.0
    assert "LEG_DAY" not in v.codes and v.flag is Flag.RUN


def test_sessions_after_now_are_ignored() -> None:
    v = verdict(strength=[session(-2, sets(12))])
    assert v.flag is Flag.RUN and v.numbers["lb_sets"] == 0.0


def test_unclassified_sets_are_counted_but_never_leg_work() -> None:
    unknown = sets(4, "unknown") + [{"category": 65534, "reps": 5}]
    rest_unknown = [{"category": "unknown", "set_type": "rest"}]
    v = verdict(strength=[session(10, sets(4) + unknown + rest_unknown)])
    assert v.unclassified_sets == 5
    assert v.numbers["lb_sets"] == 4.0 and "LEG_DAY" not in v.codes
    assert any("Garmin Connect" in n for n in v.notes)
    # older than the recent window: not counted
    assert verdict(strength=[session(100, unknown)]).unclassified_sets == 0


# --- soreness, sleep, ACWR, resting HR, HRV -----------------------------------------------


@pytest.mark.parametrize(
    ("rating", "flag", "code"),
    [
        (3, Flag.RUN, None),
        (4, Flag.EASY, "SORE"),
        (6, Flag.EASY, "SORE"),
        (7, Flag.REST, "SORE_SEVERE"),
        (10, Flag.REST, "SORE_SEVERE"),
    ],
)
def test_soreness(rating: int, flag: Flag, code: str | None) -> None:
    v = verdict(soreness=rating)
    assert v.flag is flag
    assert v.codes == ([code] if code else [])


@pytest.mark.parametrize(("hours", "fires"), [(5.99, True), (6.0, False)])
def test_sleep(hours: float, fires: bool) -> None:
    v = verdict(sleep_hours=hours)
    assert ("SLEEP_SHORT" in v.codes) is fires
    assert v.flag is (Flag.EASY if fires else Flag.RUN)


@pytest.mark.parametrize(("ratio", "fires"), [(1.50, False), (1.51, True)])
def test_acwr_given(ratio: float, fires: bool) -> None:
    v = verdict(acwr=ratio)
    assert ("ACWR_HIGH" in v.codes) is fires
    assert v.numbers["acwr_source"] == "given"


def test_acwr_from_daily_load_needs_a_day_on_or_before_d_minus_27() -> None:
    def load(first_offset: int) -> dict[str, float]:
        return {(D - timedelta(days=i)).isoformat(): 50.0 for i in range(first_offset + 1)}

    short = verdict(daily_load=load(26))
    assert "acwr" in short.unknown and short.numbers["acwr"] is None
    enough = verdict(daily_load=load(27))
    assert "acwr" not in enough.unknown and enough.numbers["acwr"] == pytest.approx(1.0)


def test_acwr_spike_from_daily_load() -> None:
    series = {(D - timedelta(days=i)).isoformat(): (150.0 if i < 7 else 40.0) for i in range(42)}
    v = verdict(daily_load=series)
    assert v.numbers["acwr_source"] == "daily_load"
    assert v.numbers["acwr"] > 1.5 and "ACWR_HIGH" in v.codes and v.flag is Flag.EASY
    days = {date.fromisoformat(k): x for k, x in series.items()}
    assert v.numbers["acwr"] == pytest.approx(acwr_from_daily_load(days, D), abs=1e-3)


def test_all_zero_load_is_unknown_not_a_crash() -> None:
    zeros = {(D - timedelta(days=i)).isoformat(): 0.0 for i in range(40)}
    v = verdict(daily_load=zeros)
    assert "acwr" in v.unknown and v.flag is Flag.RUN


@pytest.mark.parametrize(
    ("delta", "codes"),
    [(4, []), (5, ["RHR_HIGH"]), (9, ["RHR_HIGH"]), (10, ["RHR_HIGH", "RHR_VERY_HIGH"])],
)
def test_resting_hr(delta: int, codes: list[str]) -> None:
    v = verdict(resting_hr=rhr(50 + delta))
    assert v.codes == codes
    assert v.flag is (Flag.EASY if codes else Flag.RUN)  # very high alone is not REST


@pytest.mark.parametrize(("n", "known"), [(6, False), (7, True)])
def test_resting_hr_needs_7_values(n: int, known: bool) -> None:
    v = verdict(resting_hr=rhr(70, n=n))
    assert ("resting_hr" in v.unknown) is not known
    assert ("RHR_HIGH" in v.codes) is known


def test_resting_hr_baseline_is_d30_to_d1() -> None:
    values = rhr(56, n=30)
    values[(D - timedelta(days=31)).isoformat()] = 200.0  # outside the window
    assert verdict(resting_hr=values).numbers["rhr_mean_30d"] == 50.0


def hrv(baseline_nights: int, week_ms: float = 40.0, base_ms: tuple[float, ...] = (55, 60)) -> dict:
    """`baseline_nights` nights alternating `base_ms` before the week, then 7 nights of week_ms."""
    values = {}
    for i in range(baseline_nights):
        values[(D - timedelta(days=7 + i)).isoformat()] = base_ms[i % len(base_ms)]
    for i in range(7):
        values[(D - timedelta(days=i)).isoformat()] = week_ms
    return values


def test_hrv_low_needs_14_baseline_nights() -> None:
    # the week's six nights D-6..D-1 are baseline nights too: 7 + 6 = 13 vs 8 + 6 = 14
    v13 = verdict(hrv_ms=hrv(7))
    assert v13.numbers["hrv_baseline_nights"] == 13
    assert v13.codes == ["NO_BASELINE"] and v13.flag is Flag.RUN
    v14 = verdict(hrv_ms=hrv(8))
    assert v14.numbers["hrv_baseline_nights"] == 14
    assert "NO_BASELINE" not in v14.codes and "HRV_LOW" in v14.codes


def test_hrv_within_range_and_week_needs_3_nights() -> None:
    normal = verdict(hrv_ms=hrv(40, week_ms=57.5))
    assert normal.codes == [] and normal.unknown.count("hrv") == 0
    values = hrv(40)
    for i in range(2, 7):  # keep only D and D-1 of the low week
        values.pop((D - timedelta(days=i)).isoformat())
    v = verdict(hrv_ms=values)
    assert v.numbers["hrv_week_nights"] == 2 and "HRV_LOW" not in v.codes and "hrv" in v.unknown
    values[(D - timedelta(days=2)).isoformat()] = 40.0
    assert "HRV_LOW" in verdict(hrv_ms=values).codes


def test_hrv_uses_ln_rmssd_and_sample_sd() -> None:
    v = verdict(hrv_ms=hrv(40, week_ms=55.0))
    # baseline: 40 alternating 55/60 plus six nights of 55 in the week window
    logs = [math.log(55.0 if i % 2 == 0 else 60.0) for i in range(40)] + [math.log(55.0)] * 6
    mean = sum(logs) / len(logs)
    sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / (len(logs) - 1))
    assert v.numbers["hrv_baseline_mean_ln"] == pytest.approx(mean, abs=1e-4)
    assert v.numbers["hrv_baseline_sd_ln"] == pytest.approx(sd, abs=1e-4)


@pytest.mark.parametrize("status", ["LOW", "POOR", "low"])
def test_hrv_status_low_counts_without_values(status: str) -> None:
    v = verdict(hrv_status=status)
    assert v.codes == ["HRV_LOW"] and "hrv" not in v.unknown
    with_no_baseline = verdict(hrv_status=status, hrv_ms=hrv(2))
    assert with_no_baseline.codes == ["HRV_LOW", "NO_BASELINE"]


def test_hrv_status_balanced_does_not_fire() -> None:
    assert verdict(hrv_status="BALANCED").codes == []


def test_garmin_recovery() -> None:
    assert verdict(garmin_recovery_hours=0).flag is Flag.RUN
    v = verdict(garmin_recovery_hours=0.5)
    assert v.codes == ["GARMIN_RECOVERY"] and v.flag is Flag.EASY


# --- decision ----------------------------------------------------------------------------


def test_very_high_rhr_with_low_hrv_is_rest() -> None:
    v = verdict(resting_hr=rhr(60), hrv_status="LOW")
    assert v.flag is Flag.REST and "RHR_VERY_HIGH" in v.codes


def test_two_accumulating_flags_are_easy_three_are_rest() -> None:
    assert verdict(sleep_hours=5, acwr=1.8).flag is Flag.EASY
    v = verdict(sleep_hours=5, acwr=1.8, resting_hr=rhr(56))
    assert v.flag is Flag.REST
    assert "3 warning signs" in (v.prescription.why or "")


def test_sore_and_garmin_do_not_accumulate_to_rest() -> None:
    assert verdict(soreness=5, garmin_recovery_hours=20, acwr=2.0).flag is Flag.EASY


def test_acwr_alone_never_rests() -> None:
    assert verdict(acwr=9.0).flag is Flag.EASY


# --- time zones and DST --------------------------------------------------------------------


def test_day_is_the_date_in_nows_own_offset() -> None:
    now = datetime(2026, 3, 10, 6, 30, tzinfo=timezone(timedelta(hours=10)))  # 20:30 UTC on 9th
    data = {
        "now": now.isoformat(),
        "strength": [{"end": "2026-03-08T08:30:00Z", "sets": sets(8)}],  # 36 h before now
        "resting_hr": {**{f"2026-03-0{i}": 50 for i in range(1, 10)}, "2026-03-10": 57},
    }
    v = evaluate(context_from_json(data))
    assert v.day == date(2026, 3, 10) and v.numbers["day"] == "2026-03-10"
    assert v.numbers["hours_since_lb"] == 36.0
    assert v.numbers["rhr_today"] == 57  # D's value, not the UTC date's
    assert v.codes == ["LEG_DAY", "RHR_HIGH"]


def test_hours_since_cross_offsets() -> None:
    now = datetime(2026, 3, 10, 6, 30, tzinfo=timezone(timedelta(hours=-5)))
    end = "2026-03-08T11:30:00Z"  # 48 h before now
    v = evaluate(
        context_from_json(
            {
                "now": now.isoformat(),
                "strength": [{"end": "2026-03-01T11:30:00Z", "sets": sets(6)}, {"end": end, "sets": sets(8)}],
            }
        )
    )
    assert v.numbers["hours_since_lb"] == 48.0 and v.flag is Flag.RUN


@pytest.mark.parametrize(("now_local", "flag"), [((8, 54), Flag.EASY), ((9, 0), Flag.RUN)])
def test_dst_change_uses_real_hours(now_local: tuple[int, int], flag: Flag) -> None:
    """Berlin springs forward on 2026-03-29: 08:00 (+01:00) on the 28th to 09:00 (+02:00) on
    the 30th is 48 real hours (49 on the wall clock)."""
    berlin = ZoneInfo("Europe/Berlin")
    end = datetime(2026, 3, 28, 8, 0, tzinfo=berlin)
    now = datetime(2026, 3, 30, *now_local, tzinfo=berlin)
    assert end.utcoffset() == timedelta(hours=1) and now.utcoffset() == timedelta(hours=2)
    c = DayContext(
        now=now,
        strength=[
            {"end": end - timedelta(days=5), "sets": sets(6)},
            {"end": end.isoformat(), "sets": sets(8)},
        ],
    )
    v = evaluate(c)
    assert v.flag is flag
    assert v.numbers["hours_since_lb"] == (47.9 if flag is Flag.EASY else 48.0)


# --- NO_RECENT_DATA (scenarios/README.md) ---------------------------------------------------


def day_iso(days_back: int) -> str:
    return (D - timedelta(days=days_back)).isoformat()


@pytest.mark.parametrize("series", ["hrv_ms", "resting_hr", "daily_load"])
@pytest.mark.parametrize(("days_back", "fires"), [(0, False), (2, False), (3, True), (10, True)])
def test_no_recent_data_window_is_d_minus_2_to_d(series: str, days_back: int, fires: bool) -> None:
    v = verdict(**{series: {day_iso(days_back): 50.0}})
    assert ("NO_RECENT_DATA" in v.codes) is fires
    assert v.flag is Flag.RUN


@pytest.mark.parametrize(("hours", "fires"), [(71.9, False), (72.0, False), (72.1, True)])
def test_no_recent_data_counts_a_strength_session_in_the_last_3_days(hours: float, fires: bool) -> None:
    v = verdict(strength=[session(hours, sets(1, "bench_press"))])
    assert ("NO_RECENT_DATA" in v.codes) is fires


@pytest.mark.parametrize(
    "given",
    [
        {"sleep_hours": 7.5},
        {"soreness": 0},
        {"hrv_status": "BALANCED"},
        {"garmin_recovery_hours": 0},
        {"acwr": 1.0},
    ],
)
def test_no_recent_data_is_cleared_by_any_single_day_input(given: dict[str, Any]) -> None:
    assert "NO_RECENT_DATA" not in verdict(**given).codes


def test_no_recent_data_never_changes_the_flag_and_says_so() -> None:
    v = verdict(soreness=None, strength=[session(24 * 5, sets(8))])
    assert v.flag is Flag.RUN and v.codes == ["NO_RECENT_DATA"]
    assert "rests on no recent data" in v.reasons[0].text
    assert "Sync your watch" in v.reasons[0].text


# --- missing data and validation ------------------------------------------------------------


def test_only_now_is_required() -> None:
    v = evaluate(DayContext(now=NOW))
    assert v.flag is Flag.RUN and v.codes == ["NO_RECENT_DATA"]
    assert set(v.unknown) >= {"strength", "soreness", "hrv", "resting_hr", "sleep", "acwr", "garmin_recovery"}
    assert v.prescription.run is True


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({}, "now"),
        ({"now": "2026-03-10T06:30:00"}, "timezone"),
        ({"now": NOW.isoformat(), "soreness": 11}, "soreness"),
        ({"now": NOW.isoformat(), "sleep_hour": 7}, "sleep_hour"),
        ({"now": NOW.isoformat(), "hrv_ms": {"2026-03-01": 0}}, "hrv_ms"),
        ({"now": NOW.isoformat(), "strength": [{"sets": []}]}, "strength.0.end"),
        ({"now": NOW.isoformat(), "athlete": {"max_hr": 150, "rest_hr": 160}}, "athlete"),
        ([1, 2], "object"),
    ],
)
def test_invalid_context_has_a_clear_one_line_error(data: Any, needle: str) -> None:
    with pytest.raises(ContextError) as info:
        context_from_json(data)
    message = str(info.value)
    assert message.startswith("invalid context") and needle in message and "\n" not in message


# --- thresholds -------------------------------------------------------------------------


def test_threshold_overrides() -> None:
    c = ctx(strength=[session(20, sets(6))], sleep_hours=6.5)
    assert evaluate(c).flag is Flag.EASY
    t = Thresholds().with_overrides({"lb_sets": 8, "sleep_short_h": 7})
    v = evaluate(c, t)
    assert v.codes == ["SLEEP_SHORT"]
    assert v.thresholds == {"lb_sets": 8.0, "sleep_short_h": 7.0}
    assert Thresholds().with_overrides({}) == Thresholds()


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"lb_set": 5}, "unknown threshold"),
        ({"lb_sets": "many"}, "lb_sets"),
        ({"rhr_very_high": 3}, "rhr_very_high"),
        ({"sore_severe": 2}, "sore_severe"),
    ],
)
def test_bad_threshold_overrides(overrides: dict, needle: str) -> None:
    with pytest.raises(ThresholdsError, match=needle):
        Thresholds().with_overrides(overrides)


# --- prescription ---------------------------------------------------------------------------

ATHLETE = {"sex": "male", "max_hr": 190, "rest_hr": 50}


def test_zone2_top_karvonen() -> None:
    assert zone2_top(190, 50) == 148  # 50 + 0.7 x 140
    assert zone2_top(200, 60, 0.7) == 158


def test_easy_prescription() -> None:
    v = verdict(athlete=ATHLETE, strength=[earlier_leg_day(), session(20, sets(8))])
    p = v.prescription
    assert p.kind == "easy" and p.run and p.max_minutes == 30 and p.hr_cap_bpm == 148
    assert p.warmup_minutes is not None and p.warmup_minutes >= 10
    text = " ".join(p.advice).lower()
    for word in (
        "long run",
        "tempo",
        "hills",
        "intervals",
        "conversational",
        "compression",
        "hydrate",
        "listen to your body",
    ):
        assert word in text


def test_easy_cap_is_40_once_the_leg_day_is_48h_old() -> None:
    v = verdict(athlete=ATHLETE, strength=[session(60, sets(8))])  # novel, 60 h
    assert v.flag is Flag.EASY and v.prescription.max_minutes == 40
    assert verdict(sleep_hours=5).prescription.max_minutes == 30


def test_easy_without_heart_rates_has_no_cap_and_says_so() -> None:
    v = verdict(sleep_hours=5)
    assert v.prescription.hr_cap_bpm is None and "hr_profile" in v.unknown


def test_rest_prescription_after_leg_day_and_two_more_signs() -> None:
    p = verdict(strength=[session(20, sets(8))], sleep_hours=5, acwr=1.8).prescription
    assert p.kind == "rest" and not p.run and p.why
    text = " ".join(p.advice).lower()
    assert "walk for 20-40" in text and "mobility" in text and "foam roll" in text


def test_barely_walking_gets_rest_without_a_walking_target() -> None:
    p = verdict(soreness=8).prescription
    assert p.kind == "rest" and not p.run and p.why
    text = " ".join(p.advice).lower()
    assert "walk for" not in text and "no walking target" in text
    assert "only as far as it is comfortable" in text and "foam roll" not in text


def test_run_note_after_a_48_to_72h_old_leg_day() -> None:
    v = verdict(strength=[earlier_leg_day(), session(60, sets(8))])
    assert v.flag is Flag.RUN and v.prescription.note and "24 h" in v.prescription.note
    assert verdict(strength=[earlier_leg_day(), session(80, sets(8))]).prescription.note is None
    assert verdict().prescription.note is None


# --- CLI ------------------------------------------------------------------------------------

SCENARIO = Path(__file__).resolve().parents[3] / "shared" / "scenarios" / "p02-leg-day-18h.json"


@pytest.fixture()
def cli():  # noqa: ANN201 - a callable returning a click Result
    from typer.testing import CliRunner

    from sync.cli import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])


def _write(tmp_path: Path, data: Any, name: str = "c.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_cli_verdict_json(cli, tmp_path: Path) -> None:  # noqa: ANN001
    scenario = {
        "id": "x",
        "context": {"now": NOW.isoformat(), "athlete": ATHLETE, "strength": [session(18, sets(12))]},
        "expect": {"flag": "EASY"},
    }
    result = cli("verdict", "--context", _write(tmp_path, scenario), "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["flag"] == "EASY" and out["codes"] == ["LEG_DAY"]
    assert out["prescription"]["hr_cap_bpm"] == 148 and out["model_version"]
    # a bare context works too, and thresholds can be overridden
    bare = _write(tmp_path, scenario["context"], "bare.json")
    result = cli("verdict", "--context", bare, "--json", "-t", "lb_sets=13")
    assert json.loads(result.stdout)["flag"] == "RUN"


def test_cli_verdict_on_a_published_scenario(cli) -> None:  # noqa: ANN001
    from tests.conftest import require_shared

    require_shared("scenarios")  # skips locally without ../shared, fails in CI
    result = cli("verdict", "--context", SCENARIO, "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["flag"] == "EASY"
    human = cli("verdict", "--context", SCENARIO)
    assert human.exit_code == 0
    assert "EASY" in human.stdout and "hard leg sets" in human.stdout and "30 min" in human.stdout
    assert "LEG_DAY" not in human.stdout


@pytest.mark.parametrize(
    "content",
    ["{not json", json.dumps({"now": "2026-03-10"}), json.dumps({"context": {"soreness": 3}})],
)
def test_cli_bad_input_exits_2_with_one_line(cli, tmp_path: Path, content: str) -> None:  # noqa: ANN001
    result = cli("verdict", "--context", _write(tmp_path, content))
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("legday:")


def test_cli_missing_file_exits_2(cli, tmp_path: Path) -> None:  # noqa: ANN001
    result = cli("verdict", "--context", tmp_path / "nope.json")
    assert result.exit_code == 2 and "cannot read" in result.stderr


def test_the_model_does_not_load_the_decoder() -> None:
    """The readiness package is pure: importing it must not pull in fitparse or the database."""
    import subprocess
    import sys

    code = "import sys, sync.readiness; print('fitparse' in sys.modules, 'sqlalchemy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
