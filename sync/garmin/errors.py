"""Garmin failures mapped onto legday's two kinds of errors.

Callers only ever see these (never garth's or requests' exceptions), so the worker can decide
"retry later" vs "stop and tell the athlete" without knowing the HTTP library underneath.
"""

from __future__ import annotations

from sync.errors import PermanentError, TransientError


class GarminError(Exception):
    """Mixin marking an error that came from talking to Garmin."""


class GarminAuthError(PermanentError, GarminError):
    """Tokens rejected even after one refresh: the account needs re-authentication."""


class PersonalApiKeyRejected(GarminAuthError):
    """Garmin refused a Personal API key at the token exchange: wrong, expired or revoked.

    The athlete must create a new key in Garmin Connect; the message never holds the key.
    """


class GarminNotSupported(PermanentError, GarminError):
    """A call this kind of account cannot make (the Personal API is read-only: no workouts)."""


class GarminRateLimited(TransientError, GarminError):
    """Garmin answered 429: the account must wait `retry_after` seconds before the next call."""

    def __init__(self, message: str, *, retry_after: float, header: bool) -> None:
        super().__init__(message, retry_after=retry_after)
        self.from_header = header  # True when Garmin sent Retry-After itself


class GarminUnavailable(TransientError, GarminError):
    """5xx, connection reset, timeout or truncated body, after our bounded retries."""


class GarminAnswerLost(GarminUnavailable):
    """A call that changes something was sent, but its answer was cut short or never came:
    Garmin may have done it. Never sent again blindly: look first (sync/workouts/push.py)."""


class GarminNotFound(PermanentError, GarminError):
    """404: the resource does not exist (deleted activity, unknown id)."""


class GarminForbidden(PermanentError, GarminError):
    """403: not the owner of that resource (or, on profile/list calls, an auth failure)."""


class GarminBadResponse(PermanentError, GarminError):
    """Any other 4xx, or a body that is not what the endpoint always returns."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def error_for_status(status: int, path: str, *, forbidden_is_auth: bool, reconnect: str) -> Exception:
    """The error a refused Garmin answer stands for (never 429: its wait is the caller's to read).

    `reconnect` says what the athlete must do when the credential itself is refused; the two
    clients word it for their kind ("the account needs re-auth", "connect a new key").
    """
    if status == 401:
        return GarminAuthError(f"{path}: HTTP 401: {reconnect}")
    if status == 403:
        if forbidden_is_auth:
            return GarminAuthError(f"{path}: HTTP 403 on an account-wide call: {reconnect}")
        return GarminForbidden(f"{path}: HTTP 403 (not the owner)")
    if status == 404:
        return GarminNotFound(f"{path}: HTTP 404")
    if status >= 500:
        return GarminUnavailable(f"{path}: HTTP {status}")
    return GarminBadResponse(f"{path}: HTTP {status}", status=status)
