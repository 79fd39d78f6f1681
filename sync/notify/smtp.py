"""The SMTP sender (standard library smtplib): transient vs permanent failures.

Transient (retried later): connection refused or reset, timeouts, TLS hiccups, 4xx replies.
Permanent (recorded, not retried): 5xx replies, every recipient refused with 5xx, a server that
cannot do the configured security. Unknown (never sent again): the message and its final dot
went out and no reply came (a timeout, a cut connection): the server may have it. Once the
final reply is 250 the message is sent, whatever QUIT answers. The password is a SecretStr and
never appears in a message, a log record or a repr.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import TYPE_CHECKING, Literal

from pydantic import SecretStr

from sync.config import Settings
from sync.errors import DeliveryUnknown, LegdayError, PermanentError, TransientError

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

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


class _NotesTheDot(smtplib.SMTP):
    """smtplib's client, or with SMTP_SSL after it in the bases its TLS variant: `dot_sent`
    turns True once the message body is written.

    smtplib writes the body, final dot included, in the one `send` after `putcmd("data")` (and
    only after the server's 354). From then on the server may have the message whatever happens.
    """

    dot_sent = False
    _body_next = False

    def putcmd(self, cmd: str, args: str = "") -> None:  # noqa: D102 - smtplib's
        self._body_next = False
        super().putcmd(cmd, args)
        self._body_next = cmd.lower() == "data"

    def send(self, s: ReadableBuffer | str) -> None:  # noqa: D102 - smtplib's
        body, self._body_next = self._body_next, False
        super().send(s)
        if body:
            self.dot_sent = True


class _SMTP(_NotesTheDot):
    pass


class _SMTPSSL(_NotesTheDot, smtplib.SMTP_SSL):
    pass


def _failure(exc: Exception, where: str, security: str) -> LegdayError | None:
    """The transient or permanent error for a failure before the message was out; None: a bug."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        if any(400 <= c < 500 for c in codes):
            return TransientError(f"SMTP {where}: recipient deferred {codes}")
        return PermanentError(f"SMTP {where}: recipient refused {codes}")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentError(f"SMTP {where}: {security} not supported by the server")
    if isinstance(exc, smtplib.SMTPResponseException):
        error = _by_code(exc.smtp_code, where)
        return type(error)(f"{error}: {_reply(exc)}")
    if isinstance(exc, smtplib.SMTPException | OSError):  # refused, reset, timeout, TLS
        return TransientError(f"SMTP {where}: {type(exc).__name__}")
    return None


def _quit(smtp: smtplib.SMTP, where: str) -> str | None:
    """Say QUIT after the 250; the message is sent whatever comes back. A note when it was odd."""
    try:
        code, _ = smtp.docmd("QUIT")
    except (smtplib.SMTPException, OSError):
        return None  # a server that hangs up first: common and harmless
    finally:
        smtp.close()
    if code != 221:
        return f"sent (250); then SMTP {where} answered QUIT with {code}"
    return None


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

    def _connect(self) -> _SMTP | _SMTPSSL:
        if self.security == "ssl":
            return _SMTPSSL(
                self.host, self.port, timeout=self.timeout_s, context=ssl.create_default_context()
            )
        smtp = _SMTP(self.host, self.port, timeout=self.timeout_s)
        if self.security == "starttls":
            try:
                smtp.starttls(context=ssl.create_default_context())
            except BaseException:
                smtp.close()
                raise
        return smtp

    def send(self, message: EmailMessage) -> str | None:
        """Deliver `message`; returns a note for the record when the ending was odd, else None.

        Raises TransientError (retry later), PermanentError (do not) or DeliveryUnknown (the
        message was out and no reply came: never send it again).
        """
        where = f"{self.host}:{self.port}"
        smtp: _SMTP | _SMTPSSL | None = None
        try:
            smtp = self._connect()
            if self.user:
                password = self._password.get_secret_value() if self._password else ""
                smtp.login(self.user, password)
            smtp.send_message(message)
        except Exception as exc:
            dot_sent = smtp is not None and smtp.dot_sent
            if smtp is not None:
                smtp.close()
            if dot_sent and not isinstance(exc, smtplib.SMTPResponseException):
                raise DeliveryUnknown(
                    f"SMTP {where}: no reply after the message's end ({type(exc).__name__}); "
                    "it may have arrived, so it is not sent again"
                ) from None
            error = _failure(exc, where, self.security)
            if error is None:
                raise
            raise error from None
        return _quit(smtp, where)
