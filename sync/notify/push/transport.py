"""One message to one Apprise URL, with failures sorted into transient and permanent.

The only Apprise import. Apprise answers a send with True or False; why it failed is only in
its own log line ("... error=400."), so the records Apprise (and urllib3 under it) log on this
thread during the call are caught here and never reach legday's logs: at DEBUG they quote the
request path, which for most services holds the channel's secret (a webhook token, an ntfy
topic). The reason kept is legday's own words ("HTTP 400"), never Apprise's text.

A 4xx other than 408, 425 and 429 is permanent (the service refuses this channel: a revoked
token, a wrong topic): recorded and not retried. A 5xx, a timeout, a refused connection or an
unexplained False is transient: retried with backoff.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from sync.errors import PermanentError, TransientError

__all__ = ["ChannelRefused", "ChannelUnavailable", "InvalidChannel", "check_url", "redacted", "send"]

# Loggers that may quote a channel URL or its path while Apprise works.
_QUIET = ("apprise", "urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry", "requests")
_STATUS = re.compile(r"error=(\d{3})\b")
_TRANSIENT_4XX = {408, 425, 429}


class InvalidChannel(PermanentError):
    """Apprise cannot use the URL (unknown service, missing token): never sent."""


class ChannelRefused(PermanentError):
    """The service refused the message for good (a 4xx): not retried."""


class ChannelUnavailable(TransientError):
    """The service did not take the message now (5xx, timeout, connection): retried later."""


class _Catch(logging.Filter):
    """Drops the records of one thread, keeping their messages for `send` to read."""

    def __init__(self, thread: int) -> None:
        super().__init__()
        self.thread = thread
        self.messages: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.thread != self.thread:
            return True
        if record.levelno >= logging.WARNING:
            with suppress(Exception):  # a malformed record is not a reason
                self.messages.append(record.getMessage())
        return False


@contextmanager
def _quiet() -> Iterator[_Catch]:
    catch = _Catch(threading.get_ident())
    loggers = [logging.getLogger(name) for name in _QUIET]
    for logger in loggers:
        logger.addFilter(catch)
    try:
        yield catch
    finally:
        for logger in loggers:
            logger.removeFilter(catch)


def _plugin(url: str, timeout_s: float) -> Any:  # noqa: ANN401 - Apprise's plugin classes are untyped
    import apprise  # loaded only when a push is sent or a channel added

    asset = apprise.AppriseAsset(storage_mode="memory")  # nothing written to the home folder
    plugin = apprise.Apprise.instantiate(url, asset=asset)
    if plugin is None or isinstance(plugin, bool):
        raise InvalidChannel("Apprise does not understand this channel URL")
    for attr in ("socket_connect_timeout", "socket_read_timeout"):
        if hasattr(plugin, attr):
            setattr(plugin, attr, timeout_s)
    return plugin


def check_url(url: str) -> str:
    """The service's name when Apprise can use `url`; `InvalidChannel` otherwise (the URL is
    never quoted in the error)."""
    with _quiet():
        plugin = _plugin(url, 1.0)
    return str(getattr(plugin, "service_name", None) or "push")


def send(url: str, title: str, body: str, *, timeout_s: float = 10.0) -> None:
    """Deliver one message; returns when the service accepted it.

    Raises `InvalidChannel` / `ChannelRefused` (permanent) or `ChannelUnavailable` (transient).
    """
    with _quiet() as catch:
        plugin = _plugin(url, timeout_s)
        try:
            ok = bool(plugin.notify(body=body, title=title))
        except Exception as exc:  # noqa: BLE001 - a plugin's own bug: its type only (its text may hold the URL)
            raise ChannelUnavailable(f"the push service failed ({type(exc).__name__})") from None
    if ok:
        return
    codes = [int(m.group(1)) for text in catch.messages for m in _STATUS.finditer(text)]
    if codes:
        code = codes[-1]
        if 400 <= code < 500 and code not in _TRANSIENT_4XX:
            raise ChannelRefused(f"the push service refused the message (HTTP {code})")
        raise ChannelUnavailable(f"the push service did not take the message (HTTP {code})")
    raise ChannelUnavailable("the push service did not take the message (no answer)")


def redacted(url: str) -> str:
    """The URL as shown to people: Apprise's privacy form (passwords and tokens masked), then
    every host or path part without a dot cut to two characters (ntfy topics, webhook ids and
    chat ids are secrets too), and no query."""
    with _quiet():
        try:
            shown = str(_plugin(url, 1.0).url(privacy=True))
        except InvalidChannel:
            shown = url.split("://", 1)[0] + "://?"
    scheme, _, rest = shown.partition("://")
    rest = rest.split("?", 1)[0]
    parts = rest.split("/")
    masked = []
    for part in parts:
        auth, at, host = part.rpartition("@")
        masked.append(auth + at + _mask(host))
    return f"{scheme}://" + "/".join(masked).rstrip("/")


def _mask(part: str) -> str:
    if len(part) <= 4 or "." in part or "*" in part:
        return part
    return part[:2] + "…"
