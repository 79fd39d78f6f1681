"""Turn a flag into what the athlete should do: duration and HR caps, warm-up, advice."""

from __future__ import annotations

import math

from sync.readiness import texts
from sync.readiness.context import AthleteInput
from sync.readiness.texts import num
from sync.readiness.thresholds import Thresholds
from sync.readiness.verdict import Flag, Prescription

__all__ = ["build_prescription", "zone2_top"]


def zone2_top(max_hr: int, rest_hr: int, fraction: float = 0.70) -> int:
    """Top of zone 2 by Karvonen: rest + fraction x (max - rest), rounded down (bpm).

    70 % of heart-rate reserve is the usual upper edge of easy aerobic running; rounding
    down keeps the cap on the safe side.
    """
    return math.floor(rest_hr + fraction * (max_hr - rest_hr) + 1e-9)


# Extra lines chosen by the codes that fired, so advice always fits the reason.
LEG_CODES = frozenset({texts.LEG_DAY, texts.SORE, texts.SORE_SEVERE})
ILLNESS_CODES = frozenset({texts.RHR_HIGH, texts.RHR_VERY_HIGH, texts.HRV_LOW})
EAT_AND_DRINK = "Eat and hydrate well: protein and carbohydrate after training, and plenty of water."
ILLNESS_CAUTION = (
    "If you feel ill (fever, sore throat, aching muscles), do not run at all: never run through an illness."
)
SLEEP_ADVICE = "Get to bed early tonight: most adults need 7-9 h of sleep."
EASING_BACK = (
    "Your training load rose quickly: keep this week's running below last week's and build back gradually."
)
NO_RECENT_DATA_ADVICE = (
    "This verdict rests on no recent data: sync your watch (or reconnect Garmin), or report how "
    "sore your legs are, and check again."
)


def _extras(codes: frozenset[str], flag: Flag) -> list[str]:
    """Advice for the reasons that fired, beyond what the flag itself says."""
    lines: list[str] = []
    if codes & {texts.LEG_DAY, texts.SORE} and texts.SORE_SEVERE not in codes:
        if flag is Flag.REST:
            lines.append("Foam roll quads, hamstrings, calves and glutes.")
        lines.append("Compression socks or tights during or after exercise may ease heavy legs.")
    if codes & LEG_CODES:
        lines.append(EAT_AND_DRINK)
    if codes & ILLNESS_CODES:
        lines.append(ILLNESS_CAUTION)
    if texts.SLEEP_SHORT in codes:
        lines.append(SLEEP_ADVICE)
    if texts.ACWR_HIGH in codes:
        lines.append(EASING_BACK)
    if texts.NO_RECENT_DATA in codes:
        lines.append(NO_RECENT_DATA_ADVICE)
    return lines


def _rest(codes: frozenset[str], rest_why: str | None) -> Prescription:
    if texts.SORE_SEVERE in codes:
        # "Can barely walk": no walking target, nothing that loads the legs further.
        return Prescription(
            kind="rest",
            run=False,
            summary="No run today: rest your legs.",
            advice=[
                "No run and no walking target today: move only as much as your day needs.",
                "Gentle mobility for hips, hamstrings and calves, only as far as it is comfortable.",
                *_extras(codes, Flag.REST),
                "If the pain is sharp, in one spot, or not easing within a week, see a physio or doctor.",
            ],
            why=rest_why,
        )
    illness_signs = bool(codes & ILLNESS_CODES)
    walk = (
        "An easy walk is fine if you feel well."
        if illness_signs
        else "Walk for 20-40 minutes to keep blood flowing."
    )
    return Prescription(
        kind="rest",
        run=False,
        summary="No run today: rest and recover.",
        advice=[
            walk,
            "Do 10-15 minutes of mobility work for hips, hamstrings and calves.",
            *_extras(codes, Flag.REST),
        ],
        why=rest_why,
    )


def build_prescription(
    flag: Flag,
    thresholds: Thresholds,
    athlete: AthleteInput | None,
    leg_day_hours: float | None,
    leg_day_fired: bool,
    rest_why: str | None = None,
    codes: frozenset[str] = frozenset(),
) -> Prescription:
    """The prescription for `flag`, its extra advice chosen by the `codes` that fired.

    `leg_day_hours` is the age of the most recent leg day (>= lb_sets hard LB sets) or None;
    `leg_day_fired` says whether LEG_DAY fired; `rest_why` explains a REST.
    """
    t = thresholds
    if flag is Flag.REST:
        return _rest(codes, rest_why)
    if flag is Flag.EASY:
        late = leg_day_fired and leg_day_hours is not None and leg_day_hours >= t.leg_window_h
        cap = t.easy_cap_late_min if late else t.easy_cap_min
        hr_cap = None
        if athlete and athlete.max_hr is not None and athlete.rest_hr is not None:
            hr_cap = zone2_top(athlete.max_hr, athlete.rest_hr, t.zone2_hrr_fraction)
        hr_line = (
            f"Keep your heart rate under {hr_cap} bpm (top of zone 2) and the pace "
            f"conversational: you should be able to talk in full sentences."
            if hr_cap is not None
            else "Keep the pace conversational: you should be able to talk in full sentences "
            "(set your max and resting HR to get a heart-rate cap)."
        )
        legs = bool(codes & LEG_CODES)
        warmup = (
            f"Warm up longer than usual after leg work: at least {t.warmup_min} min of very easy "
            f"jogging or brisk walking (part of the {cap} min)."
            if legs
            else f"Start with at least {t.warmup_min} min of very easy jogging or brisk walking "
            f"(part of the {cap} min)."
        )
        listen = (
            "Listen to your body: if your legs hurt or feel heavy, cut it short and walk."
            if legs
            else "Listen to your body: if you feel worse as you go, cut it short and walk."
        )
        return Prescription(
            kind="easy",
            run=True,
            max_minutes=cap,
            hr_cap_bpm=hr_cap,
            warmup_minutes=t.warmup_min,
            summary=f"Short easy recovery run only: at most {cap} min.",
            advice=[
                warmup,
                hr_line,
                "No long run, tempo, hills or intervals today.",
                *_extras(codes, flag),
                listen,
            ],
        )
    note = None
    if leg_day_hours is not None and leg_day_hours < t.novel_window_h:
        note = (
            f"Your last leg day was {num(leg_day_hours)} h ago: running is fine, but keep hard "
            f"running at least {num(t.next_leg_day_gap_h)} h away from your next leg day."
        )
    return Prescription(
        kind="run",
        run=True,
        summary="Run as planned: normal training.",
        advice=["Warm up as usual and enjoy the run.", *_extras(codes, flag)],
        note=note,
    )
