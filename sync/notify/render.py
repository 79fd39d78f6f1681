"""Render a verdict as a multipart (text + HTML) email with the same content.

The template context has a documented hook for the report page (another package builds it):
`links`, a dict or None, with optional keys `report` (the athlete's report page URL) and
`soreness` (a dict of rating 0-10 to a one-click check-in URL). Without links the email simply
leaves those parts out. See docs/email.md. `watch` is one sentence saying the day's run is on
the athlete's Garmin calendar (`sync.workout_plan.watch_line`), or None.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from sync.readiness.display import FLAG_COLOURS, FLAG_HEADLINES, SORENESS_LABELS
from sync.readiness.texts import NO_RECENT_DATA, num
from sync.readiness.verdict import Flag

_env = Environment(
    loader=PackageLoader("sync.notify", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
    trim_blocks=False,
    keep_trailing_newline=True,
)

# The numbers worth showing an athlete, in this order, with their unit.
# (key, label, unit, decimals): as precise as the measurement means something to a runner.
_NUMBER_LINES: tuple[tuple[str, str, str, int], ...] = (
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


def _subject_reason(payload: dict[str, Any]) -> str | None:
    """A few words for the strongest reason, with its number, for the subject line."""
    n = payload.get("numbers", {})
    for code in payload.get("codes", []):
        if code == "LEG_DAY" and n.get("hours_since_lb") is not None:
            return f"leg day {num(n['hours_since_lb'], 0)} h ago"
        if code in ("SORE", "SORE_SEVERE") and n.get("soreness") is not None:
            return f"soreness {num(n['soreness'], 0)}/10"
        if code == "SLEEP_SHORT" and n.get("sleep_hours") is not None:
            return f"{num(n['sleep_hours'])} h sleep"
        if code == "HRV_LOW":
            return "HRV below your normal"
        if code in ("RHR_HIGH", "RHR_VERY_HIGH") and n.get("rhr_delta") is not None:
            return f"resting HR +{num(n['rhr_delta'], 0)} bpm"
        if code == "ACWR_HIGH" and n.get("acwr") is not None:
            return f"run load ratio {num(n['acwr'], 2)}"
        if code == "GARMIN_RECOVERY" and n.get("garmin_recovery_hours") is not None:
            return f"Garmin recovery {num(n['garmin_recovery_hours'], 0)} h"
        if code == NO_RECENT_DATA:
            return "no recent data"
    return None


def daily_subject(payload: dict[str, Any]) -> str:
    """The subject says the answer, e.g. `EASY today: 30 min easy, HR under 142 (leg day 20 h ago)`."""
    flag = Flag(payload["flag"])
    p = payload["prescription"]
    if flag is Flag.EASY:
        what = f"{p['max_minutes']} min easy" if p.get("max_minutes") else "easy run only"
        if p.get("hr_cap_bpm"):
            what += f", HR under {p['hr_cap_bpm']}"
    else:  # the headline's own words: "no run today" / "train as planned"
        what = FLAG_HEADLINES[flag].split(": ", 1)[1].removesuffix(" today")
    reason = _subject_reason(payload)
    subject = f"{flag} today: {what}" + (f" ({reason})" if reason else "")
    return " ".join(subject.split())  # never a newline in a header (injection)


def _numbers(payload: dict[str, Any]) -> list[str]:
    n = payload.get("numbers", {})
    lines = []
    for key, label, unit, decimals in _NUMBER_LINES:
        value = n.get(key)
        if value is None or isinstance(value, bool):
            continue
        shown = num(value, decimals) if isinstance(value, float) else str(value)
        lines.append(f"{label}: {shown}{unit}")
    return lines


def daily_context(
    payload: dict[str, Any],
    *,
    name: str | None = None,
    notices: list[str] | None = None,
    links: dict[str, Any] | None = None,
    watch: str | None = None,
    reconnect: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The template context: the verdict payload plus display words, notices and links."""
    flag = Flag(payload["flag"])
    reasons = [r for r in payload.get("reasons", []) if r["code"] != NO_RECENT_DATA]
    no_recent = [r["text"] for r in payload.get("reasons", []) if r["code"] == NO_RECENT_DATA]
    return {
        **payload,
        "name": name,
        "headline": FLAG_HEADLINES[flag],
        "colour": FLAG_COLOURS[flag],
        "reasons": reasons,
        "notices": no_recent + list(notices or []),
        "no_recent_data": bool(no_recent),  # then "no warning signs" would claim too much
        "number_lines": _numbers(payload),
        "links": links,
        "soreness_labels": SORENESS_LABELS,
        "watch": watch,
        "reconnect": reconnect,
    }


def render_daily_email(
    payload: dict[str, Any],
    *,
    to: str,
    sender: str,
    name: str | None = None,
    notices: list[str] | None = None,
    links: dict[str, Any] | None = None,
    watch: str | None = None,
    reconnect: dict[str, Any] | None = None,
) -> EmailMessage:
    """Build the daily email for a verdict payload (`Verdict.to_json_dict()`).

    `notices` are extra lines shown above the reasons (stale sync, late overnight data);
    `links` is the report hook described in the module docstring; `reconnect` ({text, link})
    warns that the Garmin credential ends soon (sync.notify.compose.reconnect_notice). Delivery headers (Date,
    Message-ID, List-Unsubscribe) are added by `sync.notify.message.add_delivery_headers`.
    """
    context = daily_context(
        payload, name=name, notices=notices, links=links, watch=watch, reconnect=reconnect
    )
    message = EmailMessage()
    message["Subject"] = daily_subject(payload)
    message["From"] = sender
    message["To"] = to
    message.set_content(_env.get_template("daily.txt.j2").render(context))
    message.add_alternative(_env.get_template("daily.html.j2").render(context), subtype="html")
    return message


def render_reauth_email(
    *,
    to: str,
    sender: str,
    name: str | None,
    reason: str | None,
    links: dict[str, Any] | None = None,
    connect: str | None = None,
    kind: str | None = None,
) -> EmailMessage:
    """The one email an athlete gets when their Garmin account needs new tokens.

    `connect` is an invite link to connect again with a Personal API key; `kind` is the
    account's credential kind (a Personal API account is told to make a new key).
    """
    context = {"name": name, "reason": reason, "links": links, "connect": connect, "kind": kind}
    message = EmailMessage()
    message["Subject"] = "legday needs you: reconnect Garmin to get your daily answer again"
    message["From"] = sender
    message["To"] = to
    message.set_content(_env.get_template("reauth.txt.j2").render(context))
    message.add_alternative(_env.get_template("reauth.html.j2").render(context), subtype="html")
    return message
