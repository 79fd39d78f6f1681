"""Render a verdict as a multipart (text + HTML) email with the same content.

The template context has a documented hook for the report page (another package builds it):
`links`, a dict or None, with optional keys `report` (the athlete's report page URL) and
`soreness` (a dict of rating 0-10 to a one-click check-in URL). Without links the email simply
leaves those parts out. See docs/email.md. `watch` is one sentence saying the day's run is on
the athlete's Garmin calendar (`sync.workouts.plan.watch_line`), or None. Every word of
the verdict itself (subject, headline, numbers) comes from `sync.readiness.display`.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from sync.readiness.display import FLAG_COLOURS, FLAG_HEADLINES, SORENESS_LABELS, daily_subject, number_lines
from sync.readiness.texts import NO_RECENT_DATA
from sync.readiness.verdict import Verdict

__all__ = ["daily_context", "daily_subject", "render_daily_email", "render_reauth_email"]

_env = Environment(
    loader=PackageLoader("sync.notify", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
    trim_blocks=False,
    keep_trailing_newline=True,
)


def daily_context(
    verdict: Verdict,
    *,
    name: str | None = None,
    notices: list[str] | None = None,
    links: dict[str, Any] | None = None,
    watch: str | None = None,
    reconnect: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The template context: the typed verdict's parts plus display words, notices and links."""
    reasons = [r for r in verdict.reasons if r.code != NO_RECENT_DATA]
    no_recent = [r.text for r in verdict.reasons if r.code == NO_RECENT_DATA]
    return {
        "flag": verdict.flag,
        "day": verdict.day,
        "prescription": verdict.prescription,
        "notes": verdict.notes,
        "model_version": verdict.model_version,
        "name": name,
        "headline": FLAG_HEADLINES[verdict.flag],
        "colour": FLAG_COLOURS[verdict.flag],
        "reasons": reasons,
        "notices": no_recent + list(notices or []),
        "no_recent_data": bool(no_recent),  # then "no warning signs" would claim too much
        "number_lines": number_lines(verdict),
        "links": links,
        "soreness_labels": SORENESS_LABELS,
        "watch": watch,
        "reconnect": reconnect,
    }


def render_daily_email(
    verdict: Verdict,
    *,
    to: str,
    sender: str,
    name: str | None = None,
    notices: list[str] | None = None,
    links: dict[str, Any] | None = None,
    watch: str | None = None,
    reconnect: dict[str, Any] | None = None,
) -> EmailMessage:
    """Build the daily email of a typed verdict (its words come from `sync.readiness.display`).

    `notices` are extra lines shown above the reasons (stale sync, late overnight data);
    `links` is the report hook described in the module docstring; `reconnect` ({text, link})
    warns that the Garmin credential ends soon (sync.notify.compose.reconnect_notice). Delivery headers (Date,
    Message-ID, List-Unsubscribe) are added by `sync.notify.message.add_delivery_headers`.
    """
    context = daily_context(
        verdict, name=name, notices=notices, links=links, watch=watch, reconnect=reconnect
    )
    message = EmailMessage()
    message["Subject"] = daily_subject(verdict)
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
