"""The readiness rules (DESIGN.md section 4): `DayContext` in, `Verdict` out. Pure.

Each rule reads one input; a missing input skips its rule and is listed in `unknown`.
Changing any rule or default changes what a verdict means: bump MODEL_VERSION.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sync.readiness import texts
from sync.readiness.baselines import hrv_baseline, load_ratio, rhr_baseline
from sync.readiness.context import DayContext, SessionInput
from sync.readiness.prescription import build_prescription
from sync.readiness.sources import sources_for
from sync.readiness.texts import (
    ACCUMULATING,
    ACWR_HIGH,
    CODE_ORDER,
    EASY_CODES,
    GARMIN_RECOVERY,
    HRV_LOW,
    LEG_DAY,
    NO_BASELINE,
    NO_RECENT_DATA,
    RHR_HIGH,
    RHR_VERY_HIGH,
    SLEEP_SHORT,
    SORE,
    SORE_SEVERE,
    SOURCES,
)
from sync.readiness.thresholds import DEFAULT_THRESHOLDS, Thresholds
from sync.readiness.verdict import Flag, Number, Reason, Verdict

__all__ = ["MODEL_VERSION", "LegAnalysis", "analyse_legs", "decide", "evaluate"]

MODEL_VERSION = "v1.2"

LOW_HRV_STATUSES = frozenset({"LOW", "POOR"})


def _hours(ctx: DayContext, session: SessionInput) -> float:
    # Aware datetimes subtract in absolute time: DST changes do not shift the windows.
    return (ctx.now - session.end).total_seconds() / 3600.0


@dataclass(frozen=True)
class LegAnalysis:
    """What the strength sessions say about D."""

    fired: bool  # LEG_DAY
    session: SessionInput | None  # the session the numbers describe
    hours: float | None  # its age at `now`
    novel: bool | None  # whether it is novel (None when not a leg day)
    leg_day_hours: float | None  # age of the most recent leg day (>= lb_sets), if any
    unclassified: int  # unknown-category hard sets in the last novel_window_h


def analyse_legs(ctx: DayContext, t: Thresholds) -> LegAnalysis:
    """Find the leg day that gates D, if any (sessions ending after `now` are ignored)."""
    past = sorted((s for s in ctx.strength or [] if s.end <= ctx.now), key=lambda s: s.end, reverse=True)
    leg_days = [s for s in past if s.lb_sets >= t.lb_sets]
    lookback = timedelta(days=t.novel_lookback_days)

    def is_novel(s: SessionInput) -> bool:
        return not any(s.end - lookback <= o.end < s.end for o in leg_days if o is not s)

    fired = next(
        (
            s
            for s in leg_days
            if _hours(ctx, s) < t.leg_window_h or (_hours(ctx, s) < t.novel_window_h and is_novel(s))
        ),
        None,
    )
    shown = fired or next(iter(leg_days), None) or next((s for s in past if s.lb_sets > 0), None)
    recent_from = ctx.now - timedelta(hours=t.novel_window_h)
    return LegAnalysis(
        fired=fired is not None,
        session=shown,
        hours=_hours(ctx, shown) if shown else None,
        novel=is_novel(shown) if shown is not None and shown.lb_sets >= t.lb_sets else None,
        leg_day_hours=_hours(ctx, leg_days[0]) if leg_days else None,
        unclassified=sum(s.unclassified_sets for s in past if s.end >= recent_from),
    )


def _lb_volume(session: SessionInput, ctx: DayContext, t: Thresholds) -> float:
    """reps x kg over the lower-body hard sets; body-weight sets use a share of body mass."""
    mass = (ctx.athlete.body_mass_kg if ctx.athlete else None) or t.default_body_mass_kg
    total = 0.0
    for s in session.sets:
        if s.lower_body > 0 and s.reps:
            load = s.weight_kg if s.weight_kg else mass * t.bodyweight_load_fraction
            total += s.lower_body * s.reps * load
    return total


def has_recent_data(ctx: DayContext, t: Thresholds) -> bool:
    """Whether anything is known from the last `recent_data_days` days (scenarios/README.md).

    Dated series count when they hold an entry dated D-(n-1) .. D; a strength session when it
    ended in the n days up to `now`; the single-day inputs whenever they are given.
    """
    days = t.recent_data_days
    first = ctx.day - timedelta(days=days - 1)
    for series in (ctx.hrv_ms, ctx.resting_hr, ctx.daily_load):
        if series and any(first <= d <= ctx.day for d in series):
            return True
    since = ctx.now - timedelta(days=days)
    if any(since <= s.end <= ctx.now for s in ctx.strength or []):
        return True
    given = (ctx.sleep_hours, ctx.soreness, ctx.hrv_status, ctx.garmin_recovery_hours, ctx.acwr)
    return any(v is not None for v in given)


def decide(codes: set[str], t: Thresholds = DEFAULT_THRESHOLDS) -> tuple[Flag, str | None]:
    """The decision order of DESIGN.md section 4; returns the flag and, for REST, why."""
    if SORE_SEVERE in codes:
        return Flag.REST, "Severe soreness: running on legs that can barely walk adds damage."
    if RHR_VERY_HIGH in codes and HRV_LOW in codes:
        return Flag.REST, (
            "Resting HR far above normal together with low HRV: your body is under strain "
            "(fatigue or a coming illness)."
        )
    adding = [c for c in ACCUMULATING if c in codes]
    if len(adding) >= t.rest_flag_count:
        return Flag.REST, (
            f"{len(adding)} warning signs at once ({', '.join(texts.CODE_LABELS[c] for c in adding)}): "
            f"together they call for a rest day."
        )
    if any(c in codes for c in EASY_CODES):
        return Flag.EASY, None
    return Flag.RUN, None


def _r(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(x, digits)


def evaluate(ctx: DayContext, thresholds: Thresholds | None = None) -> Verdict:
    """Apply the readiness rules to one athlete-day. Never raises on missing inputs."""
    t = thresholds or DEFAULT_THRESHOLDS
    day = ctx.day
    fired: dict[str, str] = {}  # code -> text
    unknown: list[str] = []
    numbers: dict[str, Number] = {"day": day.isoformat(), "now": ctx.now.isoformat()}

    # Leg day (S1, S4-S8; S11: upper-body work never counts)
    legs = analyse_legs(ctx, t)
    if ctx.strength is None:
        unknown.append("strength")
    numbers["lb_sets"] = legs.session.lb_sets if legs.session else 0.0
    numbers["lb_volume"] = _r(_lb_volume(legs.session, ctx, t), 1) if legs.session else 0.0
    numbers["hours_since_lb"] = _r(legs.hours, 2)
    numbers["novel"] = legs.novel
    numbers["lb_session_end"] = legs.session.end.isoformat() if legs.session else None
    if legs.fired and legs.session is not None and legs.hours is not None:
        fired[LEG_DAY] = texts.leg_day(
            legs.session.lb_sets,
            legs.session.lb_categories,
            legs.hours,
            bool(legs.novel) and legs.hours >= t.leg_window_h,
            t.novel_window_h,
        )

    # Soreness (legday guide, S1)
    numbers["soreness"] = ctx.soreness
    if ctx.soreness is None:
        unknown.append("soreness")
    elif ctx.soreness >= t.sore_severe:
        fired[SORE_SEVERE] = texts.sore_severe(ctx.soreness)
    elif ctx.soreness >= t.sore:
        fired[SORE] = texts.sore(ctx.soreness)

    # HRV on ln(RMSSD) (S17-S20); Garmin's status counts even without a baseline
    hrv_values_rule = False
    hrv_values_low = False
    lo_ms = hi_ms = week_ms = None
    if ctx.hrv_ms:
        hb = hrv_baseline(
            ctx.hrv_ms,
            day,
            t.hrv_baseline_days,
            t.hrv_baseline_min_nights,
            t.hrv_week_days,
            t.hrv_week_min_nights,
        )
        numbers["hrv_baseline_nights"] = hb.baseline_nights
        numbers["hrv_week_nights"] = hb.week_nights
        numbers["hrv_week_mean_ln"] = _r(hb.week_mean_ln, 4)
        numbers["hrv_baseline_mean_ln"] = _r(hb.baseline_mean_ln, 4)
        numbers["hrv_baseline_sd_ln"] = _r(hb.baseline_sd_ln, 4)
        if hb.week_mean_ln is not None:
            week_ms = math.exp(hb.week_mean_ln)
            numbers["hrv_week_mean_ms"] = _r(week_ms, 1)
        if hb.baseline_mean_ln is None or hb.baseline_sd_ln is None:
            fired[NO_BASELINE] = texts.no_baseline(hb.baseline_nights, t.hrv_baseline_min_nights)
        elif hb.week_mean_ln is not None:
            hrv_values_rule = True
            low = hb.baseline_mean_ln - t.hrv_sd_factor * hb.baseline_sd_ln
            lo_ms = math.exp(low)
            hi_ms = math.exp(hb.baseline_mean_ln + t.hrv_sd_factor * hb.baseline_sd_ln)
            numbers["hrv_normal_low_ms"] = _r(lo_ms, 1)
            numbers["hrv_normal_high_ms"] = _r(hi_ms, 1)
            hrv_values_low = hb.week_mean_ln < low
    numbers["hrv_status"] = ctx.hrv_status
    status_low = ctx.hrv_status in LOW_HRV_STATUSES
    if hrv_values_low or status_low:
        fired[HRV_LOW] = texts.hrv_low(
            week_ms if hrv_values_low else None,
            lo_ms,
            hi_ms,
            ctx.hrv_status if status_low else None,
        )
    if not hrv_values_rule and ctx.hrv_status is None:
        unknown.append("hrv")

    # Resting HR vs the 30-day mean (S21, S22)
    rb = rhr_baseline(ctx.resting_hr or {}, day, t.rhr_baseline_days, t.rhr_min_values)
    numbers["rhr_today"] = rb.today
    numbers["rhr_mean_30d"] = _r(rb.mean, 2)
    numbers["rhr_values"] = rb.values
    numbers["rhr_delta"] = _r(rb.delta, 2)
    if rb.delta is None or rb.today is None or rb.mean is None:
        unknown.append("resting_hr")
    else:
        if rb.delta >= t.rhr_very_high:
            fired[RHR_VERY_HIGH] = texts.rhr_very_high(rb.today, rb.delta, rb.mean, t.rhr_very_high)
        if rb.delta >= t.rhr_high:
            fired[RHR_HIGH] = texts.rhr_high(rb.today, rb.delta, rb.mean)

    # Sleep (S29)
    numbers["sleep_hours"] = ctx.sleep_hours
    if ctx.sleep_hours is None:
        unknown.append("sleep")
    elif ctx.sleep_hours < t.sleep_short_h:
        fired[SLEEP_SHORT] = texts.sleep_short(ctx.sleep_hours, t.sleep_short_h)

    # Acute:chronic workload ratio (S14-S16): given, else EWMA of daily load
    acwr: float | None = ctx.acwr
    numbers["acwr_source"] = "given" if acwr is not None else None
    if acwr is None and ctx.daily_load:
        lr = load_ratio(ctx.daily_load, day, t.acwr_acute_days, t.acwr_chronic_days, t.acwr_min_history_days)
        if lr is not None and lr.acwr is not None:
            acwr = lr.acwr
            numbers["acwr_source"] = "daily_load"
            numbers["acute_load"] = _r(lr.acute, 2)
            numbers["chronic_load"] = _r(lr.chronic, 2)
    numbers["acwr"] = _r(acwr, 3)
    if acwr is None:
        unknown.append("acwr")
    elif acwr > t.acwr_high:
        fired[ACWR_HIGH] = texts.acwr_high(acwr, t.acwr_high)

    # Garmin recovery time (S28)
    numbers["garmin_recovery_hours"] = ctx.garmin_recovery_hours
    if ctx.garmin_recovery_hours is None:
        unknown.append("garmin_recovery")
    elif ctx.garmin_recovery_hours > t.garmin_recovery_h:
        fired[GARMIN_RECOVERY] = texts.garmin_recovery(ctx.garmin_recovery_hours)
    if ctx.garmin_personal_api:
        unknown.append("garmin_sets")  # the strength sets come from the FIT files only

    # Freshness: informs only, never changes the flag (scenarios/README.md)
    if not has_recent_data(ctx, t):
        fired[NO_RECENT_DATA] = texts.no_recent_data(t.recent_data_days)

    athlete = ctx.athlete
    if athlete is None or athlete.max_hr is None or athlete.rest_hr is None:
        unknown.append("hr_profile")

    flag, rest_why = decide(set(fired), t)
    codes = [c for c in CODE_ORDER if c in fired]
    shown = [c for c in codes if texts.HIDDEN_BY.get(c) not in fired]
    reasons = [Reason(code=c, text=fired[c], source=SOURCES[c]) for c in shown]
    notes = []
    if legs.unclassified:
        notes.append(texts.unclassified(legs.unclassified))
    if unknown:
        labels = (texts.unknown_label(u, ctx.garmin_personal_api) for u in unknown)
        notes.append("Not known, so not used: " + ", ".join(labels) + ".")
    return Verdict(
        flag=flag,
        day=day,
        codes=codes,
        reasons=reasons,
        sources=sources_for([r.source for r in reasons]),
        unknown=unknown,
        numbers=numbers,
        prescription=build_prescription(
            flag,
            t,
            athlete,
            legs.hours if legs.fired else legs.leg_day_hours,
            legs.fired,
            rest_why,
            frozenset(codes),
        ),
        unclassified_sets=legs.unclassified,
        notes=notes,
        thresholds=t.overridden(),
        model_version=MODEL_VERSION,
    )
