"""How a verdict looks and reads, for every output (CLI, email, report, watch feed). Pure.

The one place for a verdict's words outside its own reasons and prescription: the headline and
colour of a flag, the email's subject line (with the reason that decided the flag), the watch
feed's advice line (derived from the prescription), the push messages (the morning one and its
update), the "updated at HH:MM" line, and the labelled numbers. So the terminal, the email, the
report page, the phone and the watch never disagree.
"""

from __future__ import annotations

from sync.readiness import texts
from sync.readiness.texts import NO_RECENT_DATA, num
from sync.readiness.verdict import Flag, Verdict

__all__ = [
    "FLAG_COLOURS",
    "FLAG_HEADLINES",
    "FLAG_TERMINAL_COLOURS",
    "NUMBER_LINES",
    "SORENESS_LABELS",
    "WATCH_ADVICE_MAX",
    "daily_subject",
    "deciding_code",
    "flag_colour",
    "flag_headline",
    "number_lines",
    "subject_reason",
    "watch_advice",
    "what_to_do",
    "push_morning",
    "push_update",
    "update_line",
    "channel_paused_notice",
]

FLAG_HEADLINES: dict[Flag, str] = {
    Flag.RUN: "RUN: train as planned",
    Flag.EASY: "EASY: short easy run only",
    Flag.REST: "REST: no run today",
}
# Hex colours for HTML (email, report page): green, amber, red.
FLAG_COLOURS: dict[Flag, str] = {Flag.RUN: "#1a7f37", Flag.EASY: "#b58105", Flag.REST: "#c62828"}
# Rich colour names for the terminal.
FLAG_TERMINAL_COLOURS: dict[Flag, str] = {Flag.RUN: "green", Flag.EASY: "yellow", Flag.REST: "red"}
# The one-tap soreness check-in values in words (the model's bands: SORE 4-6, SORE_SEVERE 7+).
SORENESS_LABELS: dict[int, str] = {0: "not sore", 3: "a little stiff", 5: "sore", 8: "can barely walk"}


def flag_headline(flag: Flag | str) -> str:
    """The one-line meaning of a flag ("EASY: short easy run only")."""
    return FLAG_HEADLINES[Flag(flag)]


def flag_colour(flag: Flag | str) -> str:
    """The HTML colour of a flag."""
    return FLAG_COLOURS[Flag(flag)]


# The numbers worth showing an athlete, in this order, with their unit.
# (key, label, unit, decimals): as precise as the measurement means something to a runner.
NUMBER_LINES: tuple[tuple[str, str, str, int], ...] = (
    ("lb_sets", "Hard leg sets in the last leg session", "", 1),
    ("hours_since_lb", "Hours since that session ended", " h", 0),
    ("soreness", "Your soreness rating", "/10", 0),
    ("sleep_hours", "Sleep last night", " h", 1),
    ("hrv_week_mean_ms", "HRV, 7-night average", " ms", 0),
    ("rhr_today", "Resting heart rate today", " bpm", 0),
    ("rhr_mean_30d", "Resting heart rate, 30-day average", " bpm", 0),
    ("acwr", "Run load, acute:chronic ratio", "", 2),
    ("garmin_recovery_hours", "Garmin recovery time left", " h", 0),
)
WATCH_ADVICE_MAX = 60  # characters on a watch face


def number_lines(verdict: Verdict) -> list[str]:
    """The verdict's numbers an athlete reads, as "label: value unit" lines, in a fixed order."""
    lines = []
    for key, label, unit, decimals in NUMBER_LINES:
        value = verdict.numbers.get(key)
        if value is None or isinstance(value, bool):
            continue
        shown = num(value, decimals) if isinstance(value, float) else str(value)
        lines.append(f"{label}: {shown}{unit}")
    return lines


def deciding_code(verdict: Verdict) -> str | None:
    """The code that decided the flag, in the model's decision order (DESIGN s.4).

    REST: severe soreness, else a very high resting HR with low HRV, else the first of the
    accumulating signs; EASY: the first EASY code; RUN: the first code shown (a note, if any).
    """
    codes = verdict.codes
    if verdict.flag is Flag.REST:
        if texts.SORE_SEVERE in codes:
            return texts.SORE_SEVERE
        if texts.RHR_VERY_HIGH in codes and texts.HRV_LOW in codes:
            return texts.RHR_VERY_HIGH
        return next((c for c in codes if c in texts.ACCUMULATING), codes[0] if codes else None)
    if verdict.flag is Flag.EASY:
        return next((c for c in codes if c in texts.EASY_CODES), codes[0] if codes else None)
    return codes[0] if codes else None


def _reason_words(code: str, n: dict) -> str | None:
    """A few words for one code, with its number, or None when its number is not known."""
    if code == texts.LEG_DAY and n.get("hours_since_lb") is not None:
        return f"leg day {num(n['hours_since_lb'], 0)} h ago"
    if code in (texts.SORE, texts.SORE_SEVERE) and n.get("soreness") is not None:
        return f"soreness {num(n['soreness'], 0)}/10"
    if code == texts.SLEEP_SHORT and n.get("sleep_hours") is not None:
        return f"{num(n['sleep_hours'])} h sleep"
    if code == texts.HRV_LOW:
        return "HRV below your normal"
    if code in (texts.RHR_HIGH, texts.RHR_VERY_HIGH) and n.get("rhr_delta") is not None:
        return f"resting HR +{num(n['rhr_delta'], 0)} bpm"
    if code == texts.ACWR_HIGH and n.get("acwr") is not None:
        return f"run load ratio {num(n['acwr'], 2)}"
    if code == texts.GARMIN_RECOVERY and n.get("garmin_recovery_hours") is not None:
        return f"Garmin recovery {num(n['garmin_recovery_hours'], 0)} h"
    if code == NO_RECENT_DATA:
        return "no recent data"
    return None


def subject_reason(verdict: Verdict) -> str | None:
    """A few words for the reason that decided the flag (then the others, in order), with its
    number: a REST decided by severe soreness says "soreness 8/10", not the leg day."""
    first = deciding_code(verdict)
    ordered = ([first] if first else []) + [c for c in verdict.codes if c != first]
    return next((w for c in ordered if (w := _reason_words(c, verdict.numbers))), None)


def what_to_do(verdict: Verdict) -> str:
    """The day's answer in a few words, from the prescription: "30 min easy, HR under 142",
    "no run", "train as planned" (the headline's words for REST and RUN)."""
    p = verdict.prescription
    if verdict.flag is Flag.EASY:
        what = f"{p.max_minutes} min easy" if p.max_minutes else "easy run only"
        return what + (f", HR under {p.hr_cap_bpm}" if p.hr_cap_bpm else "")
    return FLAG_HEADLINES[verdict.flag].split(": ", 1)[1].removesuffix(" today")


def daily_subject(verdict: Verdict) -> str:
    """The subject says the answer, e.g. `EASY today: 30 min easy, HR under 142 (leg day 20 h ago)`."""
    reason = subject_reason(verdict)
    subject = f"{verdict.flag} today: {what_to_do(verdict)}" + (f" ({reason})" if reason else "")
    return " ".join(subject.split())  # never a newline in a header (injection)


def watch_advice(verdict: Verdict) -> str:
    """The watch feed's line (at most WATCH_ADVICE_MAX characters): the flag and what to do,
    from the prescription, e.g. `EASY: 30 min easy, HR under 142.`; says when data is missing."""
    line = f"{verdict.flag}: {what_to_do(verdict)}."
    if NO_RECENT_DATA in verdict.codes:
        line = "No recent data. " + line
    return line if len(line) <= WATCH_ADVICE_MAX else line[: WATCH_ADVICE_MAX - 1].rstrip() + "."


PUSH_BODY_MAX = 400  # characters: a phone notification, not an email


def _caps(verdict: Verdict) -> str | None:
    """"Max 30 min, HR under 142" from the prescription; None when nothing is capped."""
    p = verdict.prescription
    caps = [f"max {p.max_minutes} min"] if p.max_minutes else []
    caps += [f"HR under {p.hr_cap_bpm}"] if p.hr_cap_bpm else []
    return ", ".join(caps).capitalize() if caps else None


def push_morning(verdict: Verdict, report_url: str | None = None) -> tuple[str, str]:
    """(title, body) of the morning push message: the subject line as title; the flag's
    headline, the deciding reason, the caps and the report link as the body."""
    reason = subject_reason(verdict)
    lines = [FLAG_HEADLINES[verdict.flag] + "."]
    if reason:
        lines.append(f"Why: {reason}.")
    caps = _caps(verdict)
    if caps:
        lines.append(caps + ".")
    if report_url:
        lines.append(report_url)
    return daily_subject(verdict), _short("\n".join(lines), report_url)


def update_line(verdict: Verdict, at: str) -> str:
    """`updated at 09:12: REST (soreness 8/10)`: a change after the day's verdict went out
    (`at` is the athlete's local HH:MM)."""
    reason = subject_reason(verdict)
    return f"updated at {at}: {verdict.flag}" + (f" ({reason})" if reason else "")


def push_update(
    before: Flag | str, verdict: Verdict, at: str, report_url: str | None = None
) -> tuple[str, str]:
    """(title, body) of the one update message of a day: what changed and why."""
    reason = subject_reason(verdict)
    title = f"Update: {verdict.flag} today, not {Flag(before)}" + (f" ({reason})" if reason else "")
    lines = [f"This morning said {Flag(before)}; {update_line(verdict, at)}.", f"Now: {what_to_do(verdict)}."]
    if report_url:
        lines.append(report_url)
    return " ".join(title.split()), _short("\n".join(lines), report_url)


def channel_paused_notice(shown_url: str, days: int, reason: str | None) -> tuple[str, str]:
    """(subject, text) of the email telling an athlete a push channel was paused."""
    subject = "legday paused one of your notification channels"
    text = (
        f"Your notification channel {shown_url} failed on {days} days in a row"
        + (f" (last: {reason})" if reason else "")
        + ", so legday stopped sending to it. Your daily email is not affected.\n\n"
        "Fix the channel (or add a new one), then start it again with\n"
        "  legday athlete notify resume NAME ID\n"
    )
    return subject, text


def _short(body: str, keep: str | None) -> str:
    """`body` within PUSH_BODY_MAX characters, keeping the trailing link whole."""
    if len(body) <= PUSH_BODY_MAX:
        return body
    tail = ("\n" + keep) if keep else ""
    return body[: PUSH_BODY_MAX - len(tail) - 1].rstrip() + "…" + tail
