"""Reason codes, their order, their sources, and the sentences shown to the athlete.

Sources are the S-numbers of reference/readiness-science.md (Part 3).
"""

from __future__ import annotations

LEG_DAY = "LEG_DAY"
SORE_SEVERE = "SORE_SEVERE"
SORE = "SORE"
HRV_LOW = "HRV_LOW"
NO_BASELINE = "NO_BASELINE"
RHR_VERY_HIGH = "RHR_VERY_HIGH"
RHR_HIGH = "RHR_HIGH"
SLEEP_SHORT = "SLEEP_SHORT"
ACWR_HIGH = "ACWR_HIGH"
GARMIN_RECOVERY = "GARMIN_RECOVERY"
NO_RECENT_DATA = "NO_RECENT_DATA"

# The order codes are listed in a verdict.
CODE_ORDER: tuple[str, ...] = (
    LEG_DAY,
    SORE,
    SORE_SEVERE,
    HRV_LOW,
    NO_BASELINE,
    RHR_HIGH,
    RHR_VERY_HIGH,
    SLEEP_SHORT,
    ACWR_HIGH,
    GARMIN_RECOVERY,
    NO_RECENT_DATA,
)

SOURCES: dict[str, str] = {
    LEG_DAY: "S1, S4-S8",
    SORE_SEVERE: "legday guide, S1",
    SORE: "legday guide, S1",
    HRV_LOW: "S17-S20",
    NO_BASELINE: "S19",
    RHR_VERY_HIGH: "S21",
    RHR_HIGH: "S21, S22",
    SLEEP_SHORT: "S29",
    ACWR_HIGH: "S14-S16",
    GARMIN_RECOVERY: "S28",
    NO_RECENT_DATA: "data check",  # legday's own check of the data, not a study
}

# Shown reasons: a more severe code replaces its milder sibling (both stay in `codes`).
HIDDEN_BY: dict[str, str] = {RHR_HIGH: RHR_VERY_HIGH, SORE: SORE_SEVERE}

# Plain words for a code inside a sentence ("3 warning signs at once: ...").
CODE_LABELS: dict[str, str] = {
    LEG_DAY: "a hard leg day",
    SORE: "sore legs",
    SORE_SEVERE: "very sore legs",
    HRV_LOW: "low HRV",
    NO_BASELINE: "no HRV baseline yet",
    RHR_HIGH: "a raised resting heart rate",
    RHR_VERY_HIGH: "a much raised resting heart rate",
    SLEEP_SHORT: "short sleep",
    ACWR_HIGH: "a sudden rise in training load",
    GARMIN_RECOVERY: "Garmin recovery time left",
    NO_RECENT_DATA: "no recent data",
}

# Flags that add up to REST when enough of them fire together.
ACCUMULATING = (LEG_DAY, HRV_LOW, RHR_HIGH, SLEEP_SHORT, ACWR_HIGH)
# Flags that make the day EASY on their own.
EASY_CODES = (LEG_DAY, SORE, HRV_LOW, RHR_HIGH, SLEEP_SHORT, ACWR_HIGH, GARMIN_RECOVERY)


def num(x: float, digits: int = 1) -> str:
    """A number for a sentence: at most `digits` decimals, no trailing zeros."""
    text = f"{x:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def leg_day(lb_sets: float, categories: list[str], hours: float, novel: bool, window_h: float) -> str:
    """LEG_DAY sentence."""
    cats = ", ".join(c.replace("_", " ") for c in categories) or "lower body"
    why = f" It was your first leg day in a while, so the window is {num(window_h)} h." if novel else ""
    return (
        f"{num(lb_sets)} hard leg sets ({cats}) {num(hours)} h ago. Running economy and "
        f"time-to-exhaustion are impaired for 24-48 h after such sessions (up to 72 h for a "
        f"first session in a while).{why}"
    )


def sore(rating: float) -> str:
    """SORE sentence."""
    return f"You rated soreness {num(rating)}/10. Soreness peaks 24-72 h after leg work."


def sore_severe(rating: float) -> str:
    """SORE_SEVERE sentence."""
    return (
        f"You rated soreness {num(rating)}/10: legs that can barely walk need rest, not a run. "
        f"Soreness peaks 24-72 h after leg work."
    )


def hrv_low(week_ms: float | None, lo_ms: float | None, hi_ms: float | None, status: str | None) -> str:
    """HRV_LOW sentence (from the values, Garmin's status, or both)."""
    parts = []
    if week_ms is not None and lo_ms is not None and hi_ms is not None:
        parts.append(
            f"7-day HRV {num(week_ms)} ms is below your normal range ({num(lo_ms)}-{num(hi_ms)} ms)."
        )
    if status is not None:
        parts.append(f"Garmin rates your HRV status {status}.")
    parts.append("A low HRV trend is a sign of incomplete recovery.")
    return " ".join(parts)


def no_baseline(nights: int, needed: int) -> str:
    """NO_BASELINE sentence."""
    return f"HRV ignored: only {nights} nights of data in the last 60 days (need {needed})."


def rhr_high(today: float, delta: float, mean: float) -> str:
    """RHR_HIGH sentence."""
    return f"Resting HR {num(today)} bpm is {num(delta)} bpm above your 30-day average ({num(mean)} bpm)."


def rhr_very_high(today: float, delta: float, mean: float, limit: float) -> str:
    """RHR_VERY_HIGH sentence (shown instead of RHR_HIGH's)."""
    return (
        f"Resting HR {num(today)} bpm is {num(delta)} bpm above your 30-day average "
        f"({num(mean)} bpm). A rise of {num(limit)} bpm or more is a strong sign of accumulated "
        f"fatigue or a coming illness."
    )


def sleep_short(hours: float, limit: float) -> str:
    """SLEEP_SHORT sentence."""
    return (
        f"{num(hours, 2)} h of sleep (under {num(limit)} h). Sleep of 6 h or less lowers "
        f"next-day performance by about 7.6 % on average."
    )


def acwr_high(ratio: float, limit: float) -> str:
    """ACWR_HIGH sentence."""
    return (
        f"Last 7 days' load is {num(ratio, 2)}x your 4-week load (> {num(limit, 2)}). "
        f"Treat as a caution, not a prediction."
    )


def garmin_recovery(hours: float) -> str:
    """GARMIN_RECOVERY sentence."""
    return (
        f"Garmin recovery time still {num(hours)} h: not ready for a hard session "
        f"(Training Effect 3 or more)."
    )


def no_recent_data(days: int) -> str:
    """NO_RECENT_DATA sentence: the verdict rests on no recent data, and what to do about it."""
    return (
        f"No recent data: nothing from your watch or Garmin in the last {days} days, so this "
        f"verdict rests on no recent data. Sync your watch (or reconnect Garmin), or report "
        f"how sore your legs are, for a verdict that knows how you are today."
    )


def unclassified(count: int) -> str:
    """Note on sets the watch could not classify."""
    s = "" if count == 1 else "s"
    return (
        f"{count} recent strength set{s} had no exercise category and did not count as leg "
        f"work: label {'it' if count == 1 else 'them'} in Garmin Connect for a better verdict."
    )


UNKNOWN_LABELS: dict[str, str] = {
    "strength": "strength sessions",
    "soreness": "soreness rating",
    "hrv": "HRV",
    "resting_hr": "resting heart rate",
    "sleep": "sleep",
    "acwr": "training load (ACWR)",
    "garmin_recovery": "Garmin recovery time",
    "hr_profile": "max and resting heart rate (for the HR cap)",
    "garmin_sets": "Garmin-edited exercise sets",
}

# For an athlete on Garmin's Personal API: what it does not offer at all, said as such.
PERSONAL_API_LABELS: dict[str, str] = {
    "garmin_recovery": "Garmin readiness and recovery time (not available on Garmin's Personal API)",
    "garmin_sets": (
        "Garmin-edited exercise sets (not available on the Personal API: the sets your watch "
        "recorded are used)"
    ),
}


def unknown_label(code: str, personal_api: bool) -> str:
    """How the "not known, so not used" line names one unknown input."""
    return (PERSONAL_API_LABELS.get(code) if personal_api else None) or UNKNOWN_LABELS[code]
