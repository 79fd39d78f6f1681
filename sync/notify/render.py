"""Render a verdict as a multipart (text + HTML) email with the same content."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from sync.readiness.display import flag_colour

_env = Environment(
    loader=PackageLoader("sync.notify", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
    trim_blocks=False,
    keep_trailing_newline=True,
)


def render_daily_email(
    payload: dict[str, Any], *, to: str, sender: str, name: str | None = None
) -> EmailMessage:
    """Build the daily email for a verdict payload (`Verdict.to_json_dict()`)."""
    context = {**payload, "name": name, "colour": flag_colour(payload["flag"])}
    message = EmailMessage()
    # Subjects come from our own data, but never let a newline through (header injection).
    subject = f"legday {payload['day']}: {payload['flag']} - {payload['prescription']['summary']}"
    message["Subject"] = " ".join(subject.split())
    message["From"] = sender
    message["To"] = to
    message["Message-ID"] = make_msgid(domain="legday.local")
    message.set_content(_env.get_template("daily.txt.j2").render(context))
    message.add_alternative(_env.get_template("daily.html.j2").render(context), subtype="html")
    return message
