"""The two kinds of errors legday raises: retry later, or give up with a reason."""

from __future__ import annotations


class LegdayError(Exception):
    """Base of every error legday raises on purpose."""


class TransientError(LegdayError):
    """Something that may work if tried again later (network, 5xx, rate limit, lock)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(LegdayError):
    """Something that will fail the same way every time; do not retry."""


class FitDecodeError(PermanentError):
    """A FIT file that cannot be used. `reason` is one line, fit for a quarantine record."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnsafeArchiveError(PermanentError):
    """A ZIP that is refused (path traversal, too large, suspicious ratio, wrong members).

    `retryable` is True when the bytes may simply have been cut short (an unreadable or
    damaged ZIP from a download): fetching them again can succeed. Hostile or oversized
    archives stay refused for good.
    """

    def __init__(self, reason: str, *, retryable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class UnreadableInput(PermanentError):
    """A file legday will not read: not a regular file, unreadable, or over the size cap."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ConfigError(PermanentError):
    """A bad value supplied by the user (unknown timezone, max HR below resting HR...)."""


class NotFoundError(PermanentError):
    """A named thing (athlete, account) does not exist."""


class DeliveryUnknown(LegdayError):
    """The whole message went to the mail server and no answer came back: it may have arrived.

    Neither transient nor permanent: sending it again could deliver it twice, so it never is.
    """
