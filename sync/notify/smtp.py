"""The SMTP sender (standard library smtplib): transient vs permanent failures.

Transient (retried later): connection refused or reset, timeouts, TLS hiccups, 4xx replies.
Permanent (recorded, not retried): 5xx replies, every recipient refused with 5xx, a server that
cannot do the configured security. The password is a SecretStr and never appears in a message,
a log record or a repr.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Literal

from pydantic import SecretStr

from sync.config import Settings
from sync.errors import PermanentError, TransientError

Security = Literal["starttls", "ssl", "none"]


def _by_code(code: int, what: str) -> PermanentError | TransientError:
    if 400 <= code < 500:
        return TransientError(f"SMTP {what}: temporary failure {code}")
    return PermanentError(f"SMTP {what}: refused with {code}")


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = (
        exc.smtp_error.decode("utf-8", "replace")
        if isinstance(exc.smtp_error, bytes)
        else str(exc.smtp_error)
    )
    return " ".join(text.split())[:200]


class SmtpSender:
    """Send one message per connection to an SMTP server."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: Security = "starttls",
        user: str | None = None,
        password: SecretStr | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.host, self.port, self.security = host, port, security
        self.user, self._password, self.timeout_s = user, password, timeout_s

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSender:
        """The sender configured by LEGDAY_SMTP_*."""
        assert settings.smtp_host, "no SMTP host configured"
        return cls(
            settings.smtp_host,
            settings.smtp_port_or_default,
            security=settings.smtp_security,
            user=settings.smtp_user,
            password=settings.smtp_password,
            timeout_s=settings.smtp_timeout_s,
        )

    def __repr__(self) -> str:  # never the password
        return f"SmtpSender({self.host!r}, {self.port}, security={self.security!r}, user={self.user!r})"

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout_s, context=ssl.create_default_context()
            )
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        if self.security == "starttls":
            try:
                smtp.starttls(context=ssl.create_default_context())
            except BaseException:
                smtp.close()
                raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Deliver `message`; raise TransientError (retry later) or PermanentError (do not)."""
        where = f"{self.host}:{self.port}"
        try:
            with self._connect() as smtp:
                if self.user:
                    password = self._password.get_secret_value() if self._password else ""
                    smtp.login(self.user, password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if any(400 <= c < 500 for c in codes):
                raise TransientError(f"SMTP {where}: recipient deferred {codes}") from None
            raise PermanentError(f"SMTP {where}: recipient refused {codes}") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentError(f"SMTP {where}: {self.security} not supported by the server") from exc
        except smtplib.SMTPResponseException as exc:
            error = _by_code(exc.smtp_code, where)
            raise type(error)(f"{error}: {_reply(exc)}") from None
        except (smtplib.SMTPException, OSError) as exc:  # refused, reset, timeout, TLS
            raise TransientError(f"SMTP {where}: {type(exc).__name__}") from None
