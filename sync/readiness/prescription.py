"""Turn a flag into what the athlete should do: duration and HR caps, warm-up, advice."""

from __future__ import annotations

import math

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


def build_prescription(
    flag: Flag,
    thresholds: Thresholds,
    athlete: AthleteInput | None,
    leg_day_hours: float | None,
    leg_day_fired: bool,
    rest_why: str | None = None,
) -> Prescription:
    """The prescription for `flag`.

    `leg_day_hours` is the age of the most recent leg day (>= lb_sets hard LB sets) or None;
    `leg_day_fired` says whether LEG_DAY fired; `rest_why` explains a REST.
    """
    t = thresholds
    if flag is Flag.REST:
        return Prescription(
            kind="rest",
            run=False,
            summary="No run today: rest and recover.",
            advice=[
                "Walk for 20-40 minutes to keep blood flowing.",
                "Do 10-15 minutes of mobility work for hips, hamstrings and calves.",
                "Foam roll quads, hamstrings, calves and glutes.",
                "Eat and hydrate well, and aim for a full night's sleep.",
            ],
            why=rest_why,
        )
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
        return Prescription(
            kind="easy",
            run=True,
            max_minutes=cap,
            hr_cap_bpm=hr_cap,
            warmup_minutes=t.warmup_min,
            summary=f"Short easy recovery run only: at most {cap} min.",
            advice=[
                f"Start with at least {t.warmup_min} min of very easy jogging or brisk walking "
                f"(part of the {cap} min).",
                hr_line,
                "No long run, tempo, hills or intervals today.",
                "Compression socks or tights during or after the run may ease heavy legs.",
                "Eat and hydrate well: protein and carbohydrate after training.",
                "Listen to your body: if your legs hurt or feel heavy, cut it short and walk.",
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
        advice=["Warm up as usual and enjoy the run."],
        note=note,
    )
