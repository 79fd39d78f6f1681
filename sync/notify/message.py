"""Delivery headers: Date, a Message-ID stable per athlete-day, List-Unsubscribe."""

from __future__ import annotations

from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr


def mail_domain(mail_from: str) -> str:
    """The domain of the From address (`legday.local` when it has none)."""
    address = parseaddr(mail_from)[1]
    return address.rpartition("@")[2] or "legday.local"


def stable_message_id(athlete_id: int, day: date, kind: str, mail_from: str) -> str:
    """The same Message-ID for the same athlete, day and kind, so a resend can be recognised."""
    return f"<legday.{kind}.{day.isoformat()}.a{athlete_id}@{mail_domain(mail_from)}>"


def unsubscribe_mailto(mail_from: str) -> str:
    """A mailto: unsubscribe link to the From address."""
    return f"mailto:{parseaddr(mail_from)[1]}?subject=unsubscribe"


def add_delivery_headers(
    message: EmailMessage,
    *,
    sent_at: datetime,
    message_id: str,
    unsubscribe: list[str],
) -> EmailMessage:
    """Set Date, Message-ID and List-Unsubscribe (a mailto: and/or https: URL) on `message`."""
    for header in ("Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"):
        del message[header]
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = message_id
    if unsubscribe:
        # A signed https URL is one word longer than the 78-column fold; Python's folder then
        # rewrites it as RFC 2047 encoded-words, which no mail client reads as a URL. Lines of
        # up to 998 octets are RFC 5322's hard limit, so allow those and keep the URLs intact.
        message.policy = message.policy.clone(max_line_length=998)
        message["List-Unsubscribe"] = ", ".join(f"<{u}>" for u in unsubscribe)
        if any(u.startswith("https:") for u in unsubscribe):  # RFC 8058 one-click
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message
