"""The sender interface and the choice between SMTP and the local outbox."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol

from sync.config import Settings
from sync.notify.outbox import OutboxSender
from sync.notify.smtp import SmtpSender


class Sender(Protocol):
    """Delivers one message, or raises TransientError / PermanentError / DeliveryUnknown."""

    def send(self, message: EmailMessage) -> str | None:
        """Deliver `message`; may return a note worth keeping on the delivery row."""


def sender_from_settings(settings: Settings) -> Sender:
    """SMTP when LEGDAY_SMTP_HOST is set, else the outbox folder in the data directory."""
    if settings.smtp_host:
        return SmtpSender.from_settings(settings)
    return OutboxSender(settings.data_dir / "outbox")
